/**
 * An event's payload: `{ type, timestamp, data }`, where `data` is the snapshot the outbox took,
 * decoded with the table's own column mappings and shown through the same view function the API's
 * routes use — so a webhook's object is exactly what GET would have answered at that moment, and
 * never carries a field the API hides (room passphrases, secrets).
 */
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { ServiceContext } from "../../context";
import { rowFromDriver } from "../../db/rows";
import type { WebhookEventType } from "../../db/schema";
import { orderView } from "../credits/service";
import { adminPayoutView } from "../payouts/list";
import { reportView } from "../recordings/review";
import { reviewView } from "../reviews/service";
import { sessionView } from "../sessions/access";
import { adminTutorProfile } from "../tutors/approval";
import { subjectsOfTutors } from "../tutors/service";
import { EVENT_OBJECTS, OBJECT_TABLES, type ObjectKind } from "./outbox";

type RowOf<K extends ObjectKind> = (typeof OBJECT_TABLES)[K]["$inferSelect"];

/** The snapshot's driver values back into the row drizzle would have read (booleans, JSON columns). */
const decodeRow = <T>(table: SQLiteTable, snapshot: string): T =>
  rowFromDriver(table, JSON.parse(snapshot) as Record<string, unknown>) as T;

const views: { [K in ObjectKind]: (svc: ServiceContext, row: RowOf<K>) => Promise<unknown> | unknown } = {
  session: (_svc, row) => sessionView(row),
  // the student's order view, with whose order it is (an integrator has no "me" to read it under)
  order: (_svc, row) => ({ ...orderView(row), userId: row.userId }),
  report: (_svc, row) => reportView(row),
  review: (_svc, row) => reviewView(row),
  tutor: async (svc, row) => adminTutorProfile(svc, row, (await subjectsOfTutors(svc, [row.id])).get(row.id) ?? []),
  payout: (_svc, row) => adminPayoutView(row),
};

/** The object an event announces, as the API shows it. */
export async function eventData(svc: ServiceContext, type: WebhookEventType, snapshot: string): Promise<unknown> {
  const kind = EVENT_OBJECTS[type];
  const view = views[kind] as (svc: ServiceContext, row: unknown) => unknown;
  return view(svc, decodeRow(OBJECT_TABLES[kind], snapshot));
}

/** The signed body: rendered once, at fan-out, and stored, so every retry sends the same bytes. */
export async function renderBody(
  svc: ServiceContext,
  e: { type: WebhookEventType; snapshot: string; createdAt: number },
): Promise<string> {
  const data = await eventData(svc, e.type, e.snapshot);
  return JSON.stringify({ type: e.type, timestamp: new Date(e.createdAt).toISOString(), data });
}
