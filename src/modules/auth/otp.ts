/**
 * E-mail one-time login codes: 6 digits, 10 minutes, at most 5 attempts each, single use, stored as
 * `<kid>:<HMAC(otp key, id:code)>` (lib/keys.ts: the kid names the key, so codes issued before a
 * JWT_SECRET rotation still verify with JWT_SECRET_PREVIOUS).
 *
 * Limits (sliding windows in D1, see sliding-window.ts):
 * - code requests: OTP_MAX_PER_ADDRESS per address and OTP_MAX_PER_IP per client IP, per 10 minutes;
 * - verifications: OTP_VERIFY_MAX_PER_IP per client IP per 10 minutes, and a failure budget of
 *   OTP_MAX_FAILED_PER_ADDRESS wrong codes per address per hour. The budget is per address, not per
 *   code, so asking for new codes never buys new guesses; once it is spent, verification for that
 *   address is 429 whatever the code, until the oldest failure is an hour old.
 *
 * A verification claims its slots (IP and failure budget) BEFORE the code is compared, so parallel
 * guesses can never have more codes compared than the budget. A right code gives its failure slot
 * back: logging in is not a failure, and successes never eat into the guesses of anyone.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Config } from "../../config";
import type { ServiceContext } from "../../context";
import { otpCodes } from "../../db/schema";
import { templates } from "../../email/templates";
import { hmacHex, newId, randomDigits, safeEqual } from "../../lib/crypto";
import { DomainError } from "../../lib/errors";
import { signingKey, verificationKey } from "../../lib/keys";
import { enqueueEmail } from "../../queues/enqueue";
import { loginUser } from "./accounts";
import { issueTokens, type TokenPair } from "./service";
import { claimed, claimSlots, refusal, release, type Window } from "./sliding-window";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
/** The window of the request limits and of the per-IP verification limit. */
export const RATE_WINDOW_MS = 10 * 60 * 1000;
/** The window of the per-address failure budget (the cleanup cron keeps events this long). */
export const OTP_FAIL_WINDOW_MS = 60 * 60 * 1000;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** What otpCodes.codeHash stores for `code` of row `otpId`: `<kid>:<hex HMAC>`. */
export async function otpHash(config: Config, otpId: string, code: string): Promise<string> {
  const { kid, key } = await signingKey(config, "otp-code");
  return `${kid}:${await hmacHex(key, `otp:${otpId}:${code}`)}`;
}

/** Constant-time check of `code` against a stored hash; false for a hash of an unknown key. */
async function otpMatches(config: Config, otpId: string, code: string, stored: string): Promise<boolean> {
  const [kid, hash] = stored.split(":");
  const key = await verificationKey(config, "otp-code", kid);
  if (!key || !hash) return false;
  return safeEqual(await hmacHex(key, `otp:${otpId}:${code}`), hash);
}

/**
 * Sliding-window limits per client IP and per address, then the code. The code is written in the
 * same batch as the claim, and only if its events were.
 */
export async function requestOtp(svc: ServiceContext, rawEmail: string, ip: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const now = Date.now();
  const windows: Window[] = [
    { bucket: `otp:ip:${ip}`, max: svc.config.OTP_MAX_PER_IP, ms: RATE_WINDOW_MS },
    { bucket: `otp:email:${email}`, max: svc.config.OTP_MAX_PER_ADDRESS, ms: RATE_WINDOW_MS },
  ];
  const claim = claimSlots(svc, windows, now);
  const id = newId("otp");
  const code = randomDigits(6);
  const [events] = await svc.d1.batch([
    claim.statement,
    svc.d1
      .prepare(
        `INSERT INTO otpCodes (id, email, codeHash, attempts, expiresAt, consumedAt, createdAt)
SELECT ?, ?, ?, 0, ?, NULL, ? WHERE EXISTS (SELECT 1 FROM rateLimitEvents WHERE id = ?)`,
      )
      .bind(id, email, await otpHash(svc.config, id, code), now + OTP_TTL_MS, now, claim.ids[0]),
  ]);
  if (!claimed(events, claim)) throw await refusal(svc, windows, now, "Too many code requests; try again later");
  await enqueueEmail(svc, { to: email, idempotencyKey: `otp:${id}`, ...templates.otp(code) });
}

const badCode = () => new DomainError("unauthorized", "The code is wrong, expired or already used");

export async function verifyOtp(svc: ServiceContext, rawEmail: string, code: string, ip: string): Promise<TokenPair> {
  const email = normalizeEmail(rawEmail);
  const now = Date.now();
  const windows: Window[] = [
    { bucket: `otp:verify:ip:${ip}`, max: svc.config.OTP_VERIFY_MAX_PER_IP, ms: RATE_WINDOW_MS },
    { bucket: `otp:fail:${email}`, max: svc.config.OTP_MAX_FAILED_PER_ADDRESS, ms: OTP_FAIL_WINDOW_MS },
  ];
  const claim = claimSlots(svc, windows, now);
  if (!claimed(await claim.statement.run(), claim)) {
    throw await refusal(svc, windows, now, "Too many login attempts; try again later");
  }
  // From here on this verification counts as a failure unless the code turns out right. An
  // address without a live code fails like a wrong code: no answer tells whether a code is live.
  if (!(await consumeIfRight(svc, email, code, now))) throw badCode();
  const failSlot = claim.ids[1];
  if (failSlot) await release(svc, failSlot);
  return issueTokens(svc, await loginUser(svc, email, now));
}

/**
 * Compares `code` with the address's latest code, claiming one of its attempts first (in the same
 * statement that finds it), and consumes it when right. True only for the one request that
 * consumed it.
 */
async function consumeIfRight(svc: ServiceContext, email: string, code: string, now: number): Promise<boolean> {
  const latest = await svc.d1
    .prepare(
      `UPDATE otpCodes SET attempts = attempts + 1
WHERE id = (SELECT id FROM otpCodes WHERE email = ? ORDER BY createdAt DESC LIMIT 1)
  AND consumedAt IS NULL AND expiresAt > ? AND attempts < ?
RETURNING id, codeHash`,
    )
    .bind(email, now, OTP_MAX_ATTEMPTS)
    .first<{ id: string; codeHash: string }>();
  if (!latest || !(await otpMatches(svc.config, latest.id, code, latest.codeHash))) return false;
  const consumed = await svc.db
    .update(otpCodes)
    .set({ consumedAt: now })
    .where(and(eq(otpCodes.id, latest.id), isNull(otpCodes.consumedAt)))
    .returning({ id: otpCodes.id });
  return consumed.length === 1;
}
