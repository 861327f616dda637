/** In-app notifications: cursor pages, unread count, mark read. Always scoped by the caller. */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { notifications } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { notFound } from "../../lib/errors";

type Row = typeof notifications.$inferSelect;

export const notificationView = (n: Row) => ({
  id: n.id,
  userId: n.userId,
  type: n.type,
  data: n.data,
  read: n.read,
  createdAt: n.createdAt,
});

export async function listNotifications(
  svc: ServiceContext,
  userId: string,
  q: { unread?: boolean; limit: number; cursor?: string },
) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        q.unread ? eq(notifications.read, false) : undefined,
        keysetAfter(notifications.createdAt, notifications.id, after),
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, notificationView, (n) => [n.createdAt, n.id]);
}

/** The unread count: a range count on `notifications_by_user_and_read`. */
export const unreadCountStatement = (svc: ServiceContext, userId: string) =>
  svc.d1.prepare("SELECT COUNT(*) AS n FROM notifications WHERE userId = ? AND read = 0").bind(userId);

export async function markRead(svc: ServiceContext, userId: string, id: string): Promise<void> {
  const row = await svc.db.query.notifications.findFirst({
    where: and(eq(notifications.id, id), eq(notifications.userId, userId)),
    columns: { id: true, read: true },
  });
  if (!row) throw notFound("Notification");
  if (!row.read) {
    await svc.db
      .update(notifications)
      .set({ read: true })
      .where(and(eq(notifications.id, id), eq(notifications.userId, userId)));
  }
}

export async function markAllRead(svc: ServiceContext, userId: string): Promise<void> {
  await svc.db
    .update(notifications)
    .set({ read: true })
    .where(and(eq(notifications.userId, userId), eq(notifications.read, false)));
}
