/**
 * The outbox's one write: an event row as an SQL statement for the batch that makes the change, so
 * the event is committed exactly when the change is (a batch that rolls back announces nothing).
 * The row snapshots the object as the batch left it — this statement runs after the change's own
 * statements — so the payload says what was true at that moment, not at delivery time.
 */
import { getTableColumns } from "drizzle-orm";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type { D1Like } from "../../db/client";
import {
  creditPurchaseOrders,
  lessonReports,
  payouts,
  reviews,
  sessions,
  tutorProfiles,
  type WebhookEventType,
} from "../../db/schema";
import { newId } from "../../lib/crypto";

/** The kind of object each event carries, and the table its snapshot is taken from. */
export const OBJECT_TABLES = {
  session: sessions,
  order: creditPurchaseOrders,
  report: lessonReports,
  review: reviews,
  tutor: tutorProfiles,
  payout: payouts,
} as const satisfies Record<string, SQLiteTable>;

export type ObjectKind = keyof typeof OBJECT_TABLES;

export const EVENT_OBJECTS: Record<WebhookEventType, ObjectKind> = {
  "session.booked": "session",
  "session.rescheduled": "session",
  "session.cancelled": "session",
  "session.completed": "session",
  "session.no_show": "session",
  "session.disputed": "session",
  "session.settled": "session",
  "credits.purchased": "order",
  "credits.reversed": "order",
  "report.published": "report",
  "review.created": "review",
  "tutor.status_changed": "tutor",
  "payout.paid": "payout",
  "payout.failed": "payout",
};

/** `json_object('id', o."id", …)` over every column of the table: the row as its driver values. */
function snapshotSql(table: SQLiteTable): string {
  const pairs = Object.values(getTableColumns(table)).map((c) => `'${c.name}', o."${c.name}"`);
  return `json_object(${pairs.join(", ")})`;
}

const SNAPSHOT_SQL = Object.fromEntries(
  Object.entries(OBJECT_TABLES).map(([kind, table]) => [
    kind,
    { table: getTableConfig(table).name, json: snapshotSql(table) },
  ]),
) as Record<ObjectKind, { table: string; json: string }>;

export interface EventSpec {
  type: WebhookEventType;
  objectId: string;
  /** What makes this event once-only (a replayed step writes nothing); defaults to a fresh id. */
  dedupeKey?: string;
  at: number;
}

/** An SQL boolean with its binds: the event is written only when it holds (the change happened). */
export interface EventGuard {
  sql: string;
  binds: unknown[];
}

/** The INSERT of one event, snapshotting its object; nothing when the object or the guard is missing. */
export function insertEvent(d1: D1Like, e: EventSpec, guard?: EventGuard): D1PreparedStatement {
  const id = newId("evt");
  const { table, json } = SNAPSHOT_SQL[EVENT_OBJECTS[e.type]];
  return d1
    .prepare(
      `INSERT INTO webhookEvents (id, type, objectId, snapshot, dedupeKey, createdAt)
SELECT ?, ?, o.id, ${json}, ?, ? FROM "${table}" AS o WHERE o.id = ? AND ${guard ? `(${guard.sql})` : "1"}
ON CONFLICT (dedupeKey) DO NOTHING`,
    )
    .bind(id, e.type, e.dedupeKey ?? `${e.type}:${id}`, e.at, e.objectId, ...(guard?.binds ?? []));
}
