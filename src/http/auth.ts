/**
 * Authentication and role guards. Every authenticated request re-reads its user (one primary-key
 * read): a token whose `sub` is no longer a user, or is a closed account, is 401. Non-admin guards trust the token's role;
 * the admin guard also re-checks the user's context in the database.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { UserContext } from "../db/schema";
import { type AccessClaims, verifyAccessToken } from "../modules/auth/tokens";
import type { AppEnv, Auth, AuthUser } from "./context";
import { ApiError } from "./errors";

export type Guard = "user" | UserContext;

/**
 * The per-request user read, as one prepared primary-key lookup: on every authenticated request,
 * drizzle's relational `findFirst` cost measurably more CPU than the query itself (npm run bench).
 * A closed account (`deletedAt` set by `DELETE /v1/me`) is no user: its tokens are 401 at once.
 */
const USER_BY_ID =
  "SELECT id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt FROM users WHERE id = ? AND deletedAt IS NULL LIMIT 1";

async function verifiedClaims(c: Context<AppEnv>, guard: Guard) {
  const header = c.req.header("authorization");
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  if (!match?.[1]) {
    throw new ApiError("unauthorized", "Missing bearer token");
  }
  const claims = await verifyAccessToken(c.get("svc").config, match[1]);
  if (guard !== "user" && claims.role !== guard) throw new ApiError("forbidden", `This route needs the ${guard} role`);
  return claims;
}

/** The checks on the re-read user: it still exists, and an admin route's user is still an admin. */
function callerAuth(guard: Guard, claims: AccessClaims, user: AuthUser | null | undefined): Auth {
  if (!user) throw new ApiError("unauthorized", "Invalid or expired access token");
  if (guard === "admin" && user.context !== "admin") throw new ApiError("forbidden", "This route needs the admin role");
  return { userId: user.id, role: claims.role, ...(claims.sid ? { sessionId: claims.sid } : {}), user };
}

export function authenticate(guard: Guard): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const claims = await verifiedClaims(c, guard);
    const user = await c.get("svc").d1.prepare(USER_BY_ID).bind(claims.sub).first<AuthUser>();
    c.set("auth", callerAuth(guard, claims, user));
    await next();
  };
}

/**
 * For hot read routes: verifies the token now, but leaves the user read to `withCaller`, which runs
 * it in ONE D1 batch with the route's own query (a local D1 round trip is the dominant cost of such
 * a request: npm run bench). The checks are the same as `authenticate`'s.
 */
export function authenticateClaims(guard: Guard): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("claims", await verifiedClaims(c, guard));
    await next();
  };
}

/** Runs `statement` batched with the caller's user read; throws 401/403 as `authenticate` would. */
export async function withCaller<Row>(
  c: Context<AppEnv>,
  guard: Guard,
  statement: (claims: { sub: string; role: UserContext }) => D1PreparedStatement,
): Promise<{ auth: Auth; rows: Row[] }> {
  const claims = c.get("claims");
  const { d1 } = c.get("svc");
  const [userResult, result] = await d1.batch([d1.prepare(USER_BY_ID).bind(claims.sub), statement(claims)]);
  const auth = callerAuth(guard, claims, userResult?.results[0] as AuthUser | undefined);
  c.set("auth", auth);
  return { auth, rows: (result?.results ?? []) as Row[] };
}

/**
 * The caller of a public route, when it matters (a hidden tutor shown to its owner and admins): the
 * bearer token's user, or null — no header, a bad or expired token and a closed account all read as
 * anonymous here, so a public route never answers 401.
 */
export async function optionalCaller(c: Context<AppEnv>): Promise<AuthUser | null> {
  if (!c.req.header("authorization")) return null;
  try {
    const claims = await verifiedClaims(c, "user");
    return (await c.get("svc").d1.prepare(USER_BY_ID).bind(claims.sub).first<AuthUser>()) ?? null;
  } catch (err) {
    if (err instanceof ApiError) return null;
    throw err;
  }
}
