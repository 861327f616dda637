/**
 * Authentication and role guards. Every authenticated request re-reads its user (one primary-key
 * read): a token whose `sub` is no longer a user is 401. Non-admin guards trust the token's role;
 * the admin guard also re-checks the user's context in the database.
 */
import type { MiddlewareHandler } from "hono";
import type { UserContext } from "../db/schema";
import { verifyAccessToken } from "../modules/auth/tokens";
import type { AppEnv, AuthUser } from "./context";
import { ApiError } from "./errors";

export type Guard = "user" | UserContext;

/**
 * The per-request user read, as one prepared primary-key lookup: on every authenticated request,
 * drizzle's relational `findFirst` cost measurably more CPU than the query itself (npm run bench).
 */
const USER_BY_ID =
  "SELECT id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt FROM users WHERE id = ? LIMIT 1";

export function authenticate(guard: Guard): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match?.[1]) {
      throw new ApiError("unauthorized", "Missing bearer token", undefined, {
        "www-authenticate": 'Bearer realm="tutorloop"',
      });
    }
    const svc = c.get("svc");
    const claims = await verifyAccessToken(svc.config, match[1]);
    const user = await svc.d1.prepare(USER_BY_ID).bind(claims.sub).first<AuthUser>();
    if (!user) throw new ApiError("unauthorized", "Invalid or expired access token");
    if (guard !== "user") {
      if (claims.role !== guard) throw new ApiError("forbidden", `This route needs the ${guard} role`);
      if (guard === "admin" && user.context !== "admin") {
        throw new ApiError("forbidden", "This route needs the admin role");
      }
    }
    c.set("auth", { userId: user.id, role: claims.role, user });
    await next();
  };
}
