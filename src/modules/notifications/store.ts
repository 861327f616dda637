/**
 * Notification rows as SQL statements, so each notification is written in the same D1 batch as the
 * change it announces (a ledger entry, a status change). Dedupe keys make every notice once-only.
 */
import type { D1Like } from "../../db/client";
import { newId } from "../../lib/crypto";

/** A notification row, written only when `guard` holds; its dedupe key makes it once-only. */
export function insertNotification(
  d1: D1Like,
  n: { id: string; userId: string; type: string; data: Record<string, unknown>; dedupeKey: string; createdAt: number },
  guard?: { sql: string; binds: unknown[] },
) {
  return d1
    .prepare(
      `INSERT INTO notifications (id, userId, type, data, read, dedupeKey, createdAt)
SELECT ?, ?, ?, ?, 0, ?, ? WHERE ${guard ? guard.sql : "1"}
ON CONFLICT (dedupeKey) DO NOTHING`,
    )
    .bind(n.id, n.userId, n.type, JSON.stringify(n.data), n.dedupeKey, n.createdAt, ...(guard?.binds ?? []));
}

/**
 * One notification per admin (users whose context is `admin`), in one statement: the alert is part of
 * the same batch as the change it announces. Each admin's row has its own dedupe key.
 */
export function insertAdminNotifications(
  d1: D1Like,
  n: { type: string; data: Record<string, unknown>; dedupeKey: string; at: number },
  guard?: { sql: string; binds: unknown[] },
) {
  return d1
    .prepare(
      `INSERT INTO notifications (id, userId, type, data, read, dedupeKey, createdAt)
SELECT ? || id, id, ?, ?, 0, ? || id, ? FROM users WHERE context = 'admin' AND ${guard ? guard.sql : "1"}
ON CONFLICT (dedupeKey) DO NOTHING`,
    )
    .bind(`${newId("ntf")}_`, n.type, JSON.stringify(n.data), `${n.dedupeKey}:`, n.at, ...(guard?.binds ?? []));
}
