/** Back-office reads that belong to no other module. */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { type UserContext, users } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { publicUser } from "../auth/service";

/** Users, optionally of one context, newest first (users_by_createdAt / users_by_context). */
export async function listUsers(svc: ServiceContext, q: { limit: number; cursor?: string; context?: UserContext }) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(users)
    .where(and(q.context ? eq(users.context, q.context) : undefined, keysetAfter(users.createdAt, users.id, after)))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, publicUser, (u) => [u.createdAt, u.id]);
}
