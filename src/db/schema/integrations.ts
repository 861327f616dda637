/**
 * (+) Outgoing webhooks: the endpoints admins register, the outbox of events (written in the same
 * batch as the change each announces) and one delivery per (endpoint, event).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { webhookDeliveryStatuses, webhookEventTypes } from "./enums";

export {
  type WebhookDeliveryStatus,
  type WebhookEventType,
  webhookDeliveryStatuses,
  webhookEventTypes,
} from "./enums";

const inList = (column: string, values: readonly string[]) =>
  sql.raw(`"${column}" IN (${values.map((v) => `'${v}'`).join(", ")})`);

/**
 * An integrator's endpoint. `events` is a JSON array of event types or `["*"]`. `secret` signs every
 * delivery; after a rotation `previousSecret` signs alongside it until `previousSecretExpiresAt`, so
 * a receiver can switch without refusing a delivery. `failingSince`: the first failed attempt since
 * the last success (null while healthy); five days of it disable the endpoint (`disabledAt`).
 */
export const webhookEndpoints = sqliteTable(
  "webhookEndpoints",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    secret: text("secret").notNull(),
    previousSecret: text("previousSecret"),
    previousSecretExpiresAt: integer("previousSecretExpiresAt"),
    failingSince: integer("failingSince"),
    disabledAt: integer("disabledAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    index("webhookEndpoints_by_createdAt").on(t.createdAt, t.id),
    /** The fan-out's subscribers: enabled endpoints only. */
    index("webhookEndpoints_enabled").on(t.id).where(sql`${t.enabled} = 1`),
    /** The auto-disable sweep: enabled endpoints failing since the longest. */
    index("webhookEndpoints_failing").on(t.failingSince).where(sql`${t.enabled} = 1 AND ${t.failingSince} IS NOT NULL`),
    check("webhookEndpoints_events", sql`json_valid(${t.events}) AND json_type(${t.events}) = 'array'`),
  ],
);

/**
 * The outbox: one row per event, inserted by the statement batch that makes the change, so an event
 * exists exactly when its change does. `snapshot` is the object's row as the batch left it (JSON of
 * its columns); the fan-out renders it once into `body` (the signed payload, the same on every retry)
 * and sets `dispatchedAt`. `dedupeKey` makes a replayed step announce nothing twice.
 */
export const webhookEvents = sqliteTable(
  "webhookEvents",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    objectId: text("objectId").notNull(),
    snapshot: text("snapshot").notNull(),
    body: text("body"),
    dedupeKey: text("dedupeKey").notNull(),
    createdAt: integer("createdAt").notNull(),
    dispatchedAt: integer("dispatchedAt"),
  },
  (t) => [
    uniqueIndex("webhookEvents_by_dedupeKey").on(t.dedupeKey),
    /** The fan-out's backlog: events not yet dispatched, oldest first. */
    index("webhookEvents_undispatched").on(t.createdAt, t.id).where(sql`${t.dispatchedAt} IS NULL`),
    index("webhookEvents_by_createdAt").on(t.createdAt),
    check("webhookEvents_type", inList("type", webhookEventTypes)),
  ],
);

/**
 * One event's delivery to one endpoint. `nextAttemptAt` is when the next attempt is due (while
 * `pending`; an attempt in flight holds it a minute ahead, its lease); `finalAttempt` marks an
 * admin's manual retry of a failed delivery: it is tried once, not put back on the schedule.
 */
export const webhookDeliveries = sqliteTable(
  "webhookDeliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpointId").notNull(),
    eventId: text("eventId").notNull(),
    eventType: text("eventType").notNull(),
    status: text("status", { enum: webhookDeliveryStatuses }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("lastStatusCode"),
    lastError: text("lastError"),
    lastResponseBody: text("lastResponseBody"),
    nextAttemptAt: integer("nextAttemptAt"),
    finalAttempt: integer("finalAttempt", { mode: "boolean" }).notNull().default(false),
    deliveredAt: integer("deliveredAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("webhookDeliveries_by_endpoint_and_event").on(t.endpointId, t.eventId),
    index("webhookDeliveries_by_endpoint_and_createdAt").on(t.endpointId, t.createdAt, t.id),
    /** The retry sweep: pending deliveries by due time. */
    index("webhookDeliveries_due").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhookDeliveries_by_event").on(t.eventId),
    /** The cleanup after 30 days. */
    index("webhookDeliveries_by_createdAt").on(t.createdAt),
    check("webhookDeliveries_status", inList("status", webhookDeliveryStatuses)),
    check("webhookDeliveries_attempts", sql`${t.attempts} >= 0`),
    check(
      "webhookDeliveries_body_cap",
      sql`${t.lastResponseBody} IS NULL OR length(CAST(${t.lastResponseBody} AS BLOB)) <= 1024`,
    ),
  ],
);
