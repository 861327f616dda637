/** Back-office reads that belong to no other module. */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { type UserContext, users } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { normalizeEmail } from "../auth/otp";
import { publicUser } from "../auth/service";

export type ListUsersQuery = { limit: number; cursor?: string; context?: UserContext; email?: string };

/**
 * Users, optionally of one context, newest first (users_by_createdAt / users_by_context). With an
 * address: the one user of it (users_by_email is unique, so no order is needed), normalised as login
 * stores it, so any spelling of the case finds the account; a context given too must match as well.
 */
export async function listUsers(svc: ServiceContext, q: ListUsersQuery) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const scope = and(
    q.email !== undefined ? eq(users.email, normalizeEmail(q.email)) : undefined,
    q.context ? eq(users.context, q.context) : undefined,
    keysetAfter(users.createdAt, users.id, after),
  );
  const rows =
    q.email !== undefined
      ? await svc.db.select().from(users).where(scope).limit(1)
      : await svc.db
          .select()
          .from(users)
          .where(scope)
          .orderBy(desc(users.createdAt), desc(users.id))
          .limit(q.limit + 1);
  return page(rows, q.limit, publicUser, (u) => [u.createdAt, u.id]);
}
