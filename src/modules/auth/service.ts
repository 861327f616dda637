/**
 * Sessions: token pairs, refresh rotation with reuse detection, logout, logout everywhere.
 *
 * A session is a refresh-token family: a login starts one, every refresh rotates within it, and so
 * does a context switch (the access token names its family in its `sid` claim). Refresh tokens are
 * random, stored as SHA-256, and single-use: presenting a rotated token again revokes the family.
 * A family lives REFRESH_TTL_MS from its first token (`familyStartedAt`), whatever the rotations.
 *
 * Every token that joins a family is inserted only while no token of it is revoked and while the
 * family is within its lifetime, checked in the INSERT itself: a reuse, logout or logout-all that
 * revokes the family at the same time cannot leave a live token behind.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { AuthUser, ServiceContext } from "../../context";
import { refreshTokens, users } from "../../db/schema";
import { newId, randomToken, sha256Hex } from "../../lib/crypto";
import { DomainError } from "../../lib/errors";
import { demoteIfDelisted } from "./accounts";
import { signAccessToken } from "./tokens";

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

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: ReturnType<typeof publicUser>;
}

/** A refresh token just stored, in clear (only its hash is kept), and its family. */
export interface IssuedRefresh {
  refreshToken: string;
  familyId: string;
}

/** The pair for `user` (its current context) around a stored refresh token. */
export async function tokenPair(svc: ServiceContext, user: AuthUser, issued: IssuedRefresh): Promise<TokenPair> {
  return {
    accessToken: await signAccessToken(svc.config, { sub: user.id, role: user.context, sid: issued.familyId }),
    refreshToken: issued.refreshToken,
    expiresIn: svc.config.ACCESS_TOKEN_TTL_SECONDS,
    user: publicUser(user),
  };
}

/** A new session (family) for `userId`: its first refresh token. */
export async function startFamily(svc: ServiceContext, userId: string): Promise<IssuedRefresh> {
  const now = Date.now();
  const refreshToken = `rt_${randomToken(32)}`;
  const familyId = newId("fam");
  await svc.db.insert(refreshTokens).values({
    id: newId("rtk"),
    userId,
    familyId,
    tokenHash: await sha256Hex(refreshToken),
    expiresAt: now + REFRESH_TTL_MS,
    familyStartedAt: now,
    createdAt: now,
  });
  return { refreshToken, familyId };
}

/** A login: a new session for `user`. */
export async function issueTokens(svc: ServiceContext, user: AuthUser): Promise<TokenPair> {
  return tokenPair(svc, user, await startFamily(svc, user.id));
}

/**
 * The family's next token; no row when the family is revoked or past its lifetime (see above).
 * Binds: id, userId, familyId, tokenHash, now, then familyId, userId, now, familyId.
 */
const JOIN_FAMILY = `INSERT INTO refreshTokens (id, userId, familyId, tokenHash, expiresAt, rotatedAt, revokedAt, familyStartedAt, createdAt)
SELECT ?, ?, ?, ?, started + ${REFRESH_TTL_MS}, NULL, NULL, started, ?
FROM (SELECT MIN(familyStartedAt) AS started FROM refreshTokens WHERE familyId = ? AND userId = ?)
WHERE started IS NOT NULL AND started + ${REFRESH_TTL_MS} > ?
  AND NOT EXISTS (SELECT 1 FROM refreshTokens WHERE familyId = ? AND revokedAt IS NOT NULL)`;

/**
 * A new token in `familyId` of `userId`; with `rotateOthers`, the family's other live tokens are
 * marked rotated in the same batch (only if the new one went in), so they stop working and a
 * replay of one of them counts as reuse.
 */
async function joinFamily(
  svc: ServiceContext,
  userId: string,
  familyId: string,
  rotateOthers: boolean,
): Promise<IssuedRefresh | null> {
  const now = Date.now();
  const id = newId("rtk");
  const refreshToken = `rt_${randomToken(32)}`;
  const insert = svc.d1
    .prepare(JOIN_FAMILY)
    .bind(id, userId, familyId, await sha256Hex(refreshToken), now, familyId, userId, now, familyId);
  const [inserted] = await svc.d1.batch([
    insert,
    ...(rotateOthers
      ? [
          svc.d1
            .prepare(
              `UPDATE refreshTokens SET rotatedAt = ?
WHERE familyId = ? AND id <> ? AND rotatedAt IS NULL AND revokedAt IS NULL
  AND EXISTS (SELECT 1 FROM refreshTokens WHERE id = ?)`,
            )
            .bind(now, familyId, id, id),
        ]
      : []),
  ]);
  return inserted?.meta.changes === 1 ? { refreshToken, familyId } : null;
}

const badRefresh = () => new DomainError("unauthorized", "Invalid, expired or revoked refresh token");

/**
 * The refresh token of a context switch: the next token of the caller's session (`sessionId`, the
 * access token's `sid`), whose older tokens stop working. A token without `sid` (an identity
 * provider's) has no session here: the switch starts one. 401 when the session has ended.
 */
export async function switchFamily(
  svc: ServiceContext,
  userId: string,
  sessionId: string | undefined,
): Promise<IssuedRefresh> {
  if (sessionId === undefined) return startFamily(svc, userId);
  const issued = await joinFamily(svc, userId, sessionId, true);
  if (!issued) throw new DomainError("unauthorized", "This session has ended; log in again");
  return issued;
}

async function revokeFamily(svc: ServiceContext, familyId: string, now: number) {
  await svc.db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

export async function refresh(svc: ServiceContext, token: string): Promise<TokenPair> {
  const now = Date.now();
  const row = await svc.db.query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(token)),
  });
  // The absolute lifetime also holds for tokens issued before it existed (sliding `expiresAt`).
  const expired = !row || row.expiresAt <= now || row.familyStartedAt + REFRESH_TTL_MS <= now;
  if (!row || expired || row.revokedAt !== null) throw badRefresh();
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
  const found = await svc.db.query.users.findFirst({ where: eq(users.id, row.userId) });
  // Closing an account revokes its tokens in the same batch; this also refuses one racing that batch.
  if (!found || found.deletedAt !== null) throw badRefresh();
  const user = await demoteIfDelisted(svc, found, now);
  const issued = await joinFamily(svc, row.userId, row.familyId, false);
  if (!issued) throw badRefresh();
  return tokenPair(svc, user, issued);
}

export async function logout(svc: ServiceContext, userId: string, token: string): Promise<void> {
  const row = await svc.db.query.refreshTokens.findFirst({
    where: eq(refreshTokens.tokenHash, await sha256Hex(token)),
  });
  if (row && row.userId === userId) await revokeFamily(svc, row.familyId, Date.now());
}

/** Revokes every refresh token of `userId`: all sessions, all devices. */
export async function logoutAll(svc: ServiceContext, userId: string): Promise<void> {
  await svc.db
    .update(refreshTokens)
    .set({ revokedAt: Date.now() })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}
