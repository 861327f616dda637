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
import type { UserContext } from "../../db/schema";
import { otpCodes, rateLimitEvents, refreshTokens, studentProfiles, users } from "../../db/schema";
import { templates } from "../../email/templates";
import type { AuthUser, ServiceContext } from "../../http/context";
import { ApiError } from "../../http/errors";
import { hmacHex, newId, randomDigits, randomToken, safeEqual, sha256Hex } from "../../lib/crypto";
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

/** Sliding-window check; throws 429 with Retry-After when `bucket` is full. */
async function checkRate(svc: ServiceContext, bucket: string, max: number, now: number): Promise<void> {
  const [row] = await svc.db
    .select({ n: count(), oldest: min(rateLimitEvents.createdAt) })
    .from(rateLimitEvents)
    .where(and(eq(rateLimitEvents.bucket, bucket), gt(rateLimitEvents.createdAt, now - RATE_WINDOW_MS)));
  if (row && row.n >= max) {
    const retryAfter = Math.max(1, Math.ceil(((row.oldest ?? now) + RATE_WINDOW_MS - now) / 1000));
    throw new ApiError("rate_limited", "Too many code requests; try again later", undefined, {
      "retry-after": String(retryAfter),
    });
  }
}

export async function requestOtp(svc: ServiceContext, rawEmail: string, ip: string): Promise<void> {
  const email = normalizeEmail(rawEmail);
  const now = Date.now();
  await checkRate(svc, `otp:ip:${ip}`, svc.config.OTP_MAX_PER_IP, now);
  await checkRate(svc, `otp:email:${email}`, svc.config.OTP_MAX_PER_ADDRESS, now);
  const id = newId("otp");
  const code = randomDigits(6);
  await svc.db.batch([
    svc.db.insert(rateLimitEvents).values([
      { id: newId("rl"), bucket: `otp:ip:${ip}`, createdAt: now },
      { id: newId("rl"), bucket: `otp:email:${email}`, createdAt: now },
    ]),
    svc.db.insert(otpCodes).values({
      id,
      email,
      codeHash: await otpHash(svc.config, id, code),
      expiresAt: now + OTP_TTL_MS,
      createdAt: now,
    }),
  ]);
  await enqueueEmail(svc, { to: email, idempotencyKey: `otp:${id}`, ...templates.otp(code) });
}

const badCode = () => new ApiError("unauthorized", "The code is wrong, expired or already used");

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

export async function issueTokens(svc: ServiceContext, user: AuthUser, familyId: string = newId("fam")) {
  const now = Date.now();
  const secret = `rt_${randomToken(32)}`;
  await svc.db.insert(refreshTokens).values({
    id: newId("rtk"),
    userId: user.id,
    familyId,
    tokenHash: await sha256Hex(secret),
    expiresAt: now + REFRESH_TTL_MS,
    createdAt: now,
  });
  return {
    accessToken: await signAccessToken(svc.config, { sub: user.id, role: user.context }, now),
    refreshToken: secret,
    expiresIn: svc.config.ACCESS_TOKEN_TTL_SECONDS,
    user: publicUser(user),
  };
}

const badRefresh = () => new ApiError("unauthorized", "Invalid, expired or revoked refresh token");

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
  return issueTokens(svc, user, row.familyId);
}

export async function logout(svc: ServiceContext, userId: string, token: string): Promise<void> {
  const row = await svc.db.query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(token)),
  });
  if (row && row.userId === userId) await revokeFamily(svc, row.familyId, Date.now());
}
