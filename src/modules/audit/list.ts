/**
 * Reading the audit log: newest first, in keyset pages on (createdAt, id). Each filter has its index:
 * none → adminAuditLog_by_createdAt, `actorId` → adminAuditLog_by_actor, `targetId` →
 * adminAuditLog_by_target. Both together are one index search on either (SQLite picks) with the other
 * column checked on the rows it finds: an actor's actions on one target are few.
 */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { adminAuditLog } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";

export async function listAuditLog(
  svc: ServiceContext,
  q: { limit: number; cursor?: string; actorId?: string; targetId?: string },
) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(adminAuditLog)
    .where(
      and(
        q.actorId ? eq(adminAuditLog.actorUserId, q.actorId) : undefined,
        q.targetId ? eq(adminAuditLog.targetId, q.targetId) : undefined,
        keysetAfter(adminAuditLog.createdAt, adminAuditLog.id, after),
      ),
    )
    .orderBy(desc(adminAuditLog.createdAt), desc(adminAuditLog.id))
    .limit(q.limit + 1);
  return page(
    rows,
    q.limit,
    (r) => r,
    (r) => [r.createdAt, r.id],
  );
}
