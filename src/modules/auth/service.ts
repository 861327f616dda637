/**
 * E-mail one-time codes, token pairs, refresh rotation with reuse detection.
 *
 * Codes: 6 digits, 10 minutes, 5 attempts, single use, stored as HMAC(JWT_SECRET, id:code). An
 * attempt is claimed atomically before the comparison, so parallel guesses cannot exceed the limit.
 * Refresh tokens: random, stored as SHA-256, rotated on every use; presenting a rotated token again
 * revokes its whole family.
 */
import { and, count, desc, eq, gt, isNull, lt, min, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { AuthUser, ServiceContext } from "../../context";
import type { UserContext } from "../../db/schema";
import { otpCodes, rateLimitEvents, refreshTokens, studentProfiles, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { hmacHex, newId, randomDigits, randomToken, safeEqual, sha256Hex } from "../../lib/crypto";
import { DomainError } from "../../lib/errors";
import { enqueueEmail } from "../../queues/enqueue";
import { signAccessToken } from "./tokens";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
export const RATE_WINDOW_MS = 10 * 60 * 1000;
export const REFRESH_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export function publicUser(u: AuthUser) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    context: u.context,
    studentProfileId: u.studentProfileId,
    tutorProfileId: u.tutorProfileId,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export const otpHash = (config: Config, otpId: string, code: string) =>
  hmacHex(config.JWT_SECRET, `otp:${otpId}:${code}`);

const countInWindow = "(SELECT COUNT(*) FROM rateLimitEvents WHERE bucket = ? AND createdAt > ?)";

/** Seconds until `bucket` has room again, or null when it has room now. */
async function retryAfter(svc: ServiceContext, bucket: string, max: number, now: number): Promise<number | null> {
  const [row] = await svc.db
    .select({ n: count(), oldest: min(rateLimitEvents.createdAt) })
    .from(rateLimitEvents)
    .where(and(eq(rateLimitEvents.bucket, bucket), gt(rateLimitEvents.createdAt, now - RATE_WINDOW_MS)));
  if (!row || row.n < max) return null;
  return Math.max(1, Math.ceil(((row.oldest ?? now) + RATE_WINDOW_MS - now) / 1000));
}

/**
 * Sliding-window limits per client IP and per address, then the code. The limit check and the
 * recording of the request are ONE conditional INSERT (both events or neither), and the code is
 * written in the same batch only if its events were: parallel requests cannot all pass a check made
 * before any of them is recorded.
 */
export async function requestOtp(svc: ServiceContext, rawEmail: string, ip: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const now = Date.now();
  const since = now - RATE_WINDOW_MS;
  const ipBucket = `otp:ip:${ip}`;
  const emailBucket = `otp:email:${email}`;
  const ipEventId = newId("rl");
  const id = newId("otp");
  const code = randomDigits(6);
  const [events] = await svc.d1.batch([
    svc.d1
      .prepare(
        `INSERT INTO rateLimitEvents (id, bucket, createdAt)
SELECT column1, column2, ? FROM (VALUES (?, ?), (?, ?))
WHERE ${countInWindow} < ? AND ${countInWindow} < ?`,
      )
      .bind(
        now,
        ipEventId,
        ipBucket,
        newId("rl"),
        emailBucket,
        ipBucket,
        since,
        svc.config.OTP_MAX_PER_IP,
        emailBucket,
        since,
        svc.config.OTP_MAX_PER_ADDRESS,
      ),
    svc.d1
      .prepare(
        `INSERT INTO otpCodes (id, email, codeHash, attempts, expiresAt, consumedAt, createdAt)
SELECT ?, ?, ?, 0, ?, NULL, ? WHERE EXISTS (SELECT 1 FROM rateLimitEvents WHERE id = ?)`,
      )
      .bind(id, email, await otpHash(svc.config, id, code), now + OTP_TTL_MS, now, ipEventId),
  ]);
  if (!events?.meta.changes) {
    const waits = await Promise.all([
      retryAfter(svc, ipBucket, svc.config.OTP_MAX_PER_IP, now),
      retryAfter(svc, emailBucket, svc.config.OTP_MAX_PER_ADDRESS, now),
    ]);
    const wait = Math.max(1, ...waits.filter((w): w is number => w !== null));
    throw new DomainError("rate_limited", "Too many code requests; try again later", undefined, wait);
  }
  await enqueueEmail(svc, { to: email, idempotencyKey: `otp:${id}`, ...templates.otp(code) });
}

const badCode = () => new DomainError("unauthorized", "The code is wrong, expired or already used");

export async function verifyOtp(svc: ServiceContext, rawEmail: string, code: string) {
  const email = normalizeEmail(rawEmail);
  const now = Date.now();
  const latest = await svc.db.query.otpCodes.findFirst({
    where: eq(otpCodes.email, email),
    orderBy: desc(otpCodes.createdAt),
  });
  if (!latest) throw badCode();
  // Claim one attempt before comparing: the limit holds under parallel guesses.
  const claimed = await svc.db
    .update(otpCodes)
    .set({ attempts: sql`${otpCodes.attempts} + 1` })
    .where(
      and(
        eq(otpCodes.id, latest.id),
        isNull(otpCodes.consumedAt),
        gt(otpCodes.expiresAt, now),
        lt(otpCodes.attempts, OTP_MAX_ATTEMPTS),
      ),
    )
    .returning({ id: otpCodes.id });
  if (claimed.length === 0) throw badCode();
  if (!safeEqual(await otpHash(svc.config, latest.id, code), latest.codeHash)) throw badCode();
  const consumed = await svc.db
    .update(otpCodes)
    .set({ consumedAt: now })
    .where(and(eq(otpCodes.id, latest.id), isNull(otpCodes.consumedAt)))
    .returning({ id: otpCodes.id });
  if (consumed.length === 0) throw badCode();
  const user = await findOrCreateUser(svc, email, now);
  return issueTokens(svc, user);
}

async function findOrCreateUser(svc: ServiceContext, email: string, now: number): Promise<AuthUser> {
  const isAdmin = svc.config.ADMIN_EMAILS.includes(email);
  let user = await svc.db.query.users.findFirst({ where: eq(users.email, email) });
  if (!user) {
    const userId = newId("usr");
    const profileId = newId("stu");
    const context: UserContext = isAdmin ? "admin" : "student";
    try {
      await svc.db.batch([
        svc.db.insert(users).values({
          id: userId,
          email,
          name: null,
          context,
          studentProfileId: profileId,
          tutorProfileId: null,
          createdAt: now,
          updatedAt: now,
        }),
        svc.db.insert(studentProfiles).values({
          id: profileId,
          userId,
          displayName: email.split("@")[0] ?? email,
          createdAt: now,
          updatedAt: now,
        }),
      ]);
    } catch (err) {
      // A concurrent first login for the same address won the race: use its user.
      if (!String((err as Error).message).includes("UNIQUE")) throw err;
    }
    user = await svc.db.query.users.findFirst({ where: eq(users.email, email) });
    if (!user) throw new Error("user vanished after insert");
  } else if (isAdmin && user.context !== "admin") {
    // ADMIN_EMAILS bootstraps admins, also for accounts that existed before the address was listed.
    [user] = await svc.db
      .update(users)
      .set({ context: "admin", updatedAt: now })
      .where(eq(users.id, user.id))
      .returning();
    if (!user) throw new Error("user vanished during update");
  }
  return user;
}

/**
 * A new refresh token (and access token) for `user`. Without `familyId` it starts a new family; with
 * one (rotation) the token joins that family only while no token of it is revoked, checked in the
 * INSERT itself: a reuse or logout that revokes the family between the rotation and this insert
 * cannot leave a live token behind. Returns null when the family was revoked.
 */
export async function issueTokens(svc: ServiceContext, user: AuthUser): Promise<TokenPair>;
export async function issueTokens(svc: ServiceContext, user: AuthUser, familyId: string): Promise<TokenPair | null>;
export async function issueTokens(svc: ServiceContext, user: AuthUser, familyId?: string): Promise<TokenPair | null> {
  const now = Date.now();
  const secret = `rt_${randomToken(32)}`;
  const row = {
    id: newId("rtk"),
    userId: user.id,
    familyId: familyId ?? newId("fam"),
    tokenHash: await sha256Hex(secret),
    expiresAt: now + REFRESH_TTL_MS,
    createdAt: now,
  };
  if (familyId === undefined) {
    await svc.db.insert(refreshTokens).values(row);
  } else {
    const inserted = await svc.d1
      .prepare(
        `INSERT INTO refreshTokens (id, userId, familyId, tokenHash, expiresAt, rotatedAt, revokedAt, createdAt)
SELECT ?, ?, ?, ?, ?, NULL, NULL, ?
WHERE NOT EXISTS (SELECT 1 FROM refreshTokens WHERE familyId = ? AND revokedAt IS NOT NULL)`,
      )
      .bind(row.id, row.userId, row.familyId, row.tokenHash, row.expiresAt, row.createdAt, row.familyId)
      .run();
    if (inserted.meta.changes !== 1) return null;
  }
  return {
    accessToken: await signAccessToken(svc.config, { sub: user.id, role: user.context }, now),
    refreshToken: secret,
    expiresIn: svc.config.ACCESS_TOKEN_TTL_SECONDS,
    user: publicUser(user),
  };
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: ReturnType<typeof publicUser>;
}

const badRefresh = () => new DomainError("unauthorized", "Invalid, expired or revoked refresh token");

async function revokeFamily(svc: ServiceContext, familyId: string, now: number) {
  await svc.db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

export async function refresh(svc: ServiceContext, token: string) {
  const now = Date.now();
  const row = await svc.db.query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(token)),
  });
  if (!row || row.revokedAt !== null || row.expiresAt <= now) throw badRefresh();
  const rotated = await svc.db
    .update(refreshTokens)
    .set({ rotatedAt: now })
    .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.rotatedAt), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id });
  if (rotated.length === 0) {
    // A rotated token came back: it was stolen or replayed. Revoke the whole family.
    await revokeFamily(svc, row.familyId, now);
    throw badRefresh();
  }
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, row.userId) });
  if (!user) throw badRefresh();
  const pair = await issueTokens(svc, user, row.familyId);
  if (!pair) throw badRefresh();
  return pair;
}

export async function logout(svc: ServiceContext, userId: string, token: string): Promise<void> {
  const row = await svc.db.query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(token)),
  });
  if (row && row.userId === userId) await revokeFamily(svc, row.familyId, Date.now());
}
