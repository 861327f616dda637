/**
 * The fan-out: outbox events not yet dispatched become one delivery per subscribed, enabled
 * endpoint, and each delivery a queue job. It runs when a change nudges it (`webhooks.dispatch`,
 * after the change's commit) and on every cron tick, so an event whose nudge was lost is still
 * delivered: the outbox row is the durable fact, the nudge only makes it prompt. Idempotent: the
 * event's `dispatchedAt` and the (endpoint, event) unique index make a second run change nothing.
 */
import type { ServiceContext } from "../../context";
import type { WebhookEventType } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { enqueueMany } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { renderBody } from "./render";

/** Events per run: two statements each in one batch (more past 90 subscribers); a full run continues on the queue. */
export const DISPATCH_BATCH = 50;

/**
 * Endpoints per delivery INSERT: each is one bound parameter (D1 allows 100 a statement, the INSERT
 * binds 4 of its own), so an event with more subscribers takes several INSERTs in the same batch.
 */
const ENDPOINTS_PER_INSERT = 90;

interface EventRow {
  id: string;
  type: WebhookEventType;
  snapshot: string;
  createdAt: number;
}

/**
 * The event's deliveries to `endpointIds` (the run's read of the endpoints decided who subscribes),
 * as explicit rows whose ids are the caller's `prefix` + endpoint id: nothing here re-reads every
 * endpoint's subscriptions per event. The event's guard comes first — one seek, so a run that lost
 * the race reads nothing more (after the per-row term, D1 counted it once per row) — then each
 * endpoint's seek: still there and enabled, or one deleted since the read would get a delivery the
 * sweep retries forever. Not RETURNING: D1 counts two rows read per row returned, and the ids are known.
 */
function insertDeliveries(svc: ServiceContext, e: EventRow, prefix: string, endpointIds: string[], now: number) {
  const rows = endpointIds.map((_, i) => `(?${i + 5})`).join(", ");
  return svc.d1
    .prepare(
      `INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, nextAttemptAt, createdAt, updatedAt)
SELECT ?1 || v.column1, v.column1, ?2, ?3, 'pending', 0, ?4, ?4, ?4 FROM (VALUES ${rows}) AS v
WHERE EXISTS (SELECT 1 FROM webhookEvents WHERE id = ?2 AND dispatchedAt IS NULL)
  AND EXISTS (SELECT 1 FROM webhookEndpoints WHERE id = v.column1 AND enabled = 1)
ON CONFLICT (endpointId, eventId) DO NOTHING`,
    )
    .bind(prefix, e.id, e.type, now, ...endpointIds);
}

/** Dispatches one batch of the backlog; returns how many events it took (DISPATCH_BATCH: there may be more). */
export async function dispatchEvents(svc: ServiceContext, limit = DISPATCH_BATCH): Promise<number> {
  const [events, endpoints] = await svc.d1.batch<EventRow | { id: string; events: string }>([
    svc.d1
      .prepare(
        "SELECT id, type, snapshot, createdAt FROM webhookEvents WHERE dispatchedAt IS NULL ORDER BY createdAt, id LIMIT ?",
      )
      .bind(limit),
    svc.d1.prepare("SELECT id, events FROM webhookEndpoints WHERE enabled = 1"),
  ]);
  const due = (events?.results ?? []) as EventRow[];
  if (due.length === 0) return 0;
  const subscriptions = ((endpoints?.results ?? []) as { id: string; events: string }[]).map((e) => ({
    id: e.id,
    events: JSON.parse(e.events) as string[],
  }));
  const now = svc.clock.now();
  const statements: D1PreparedStatement[] = [];
  /**
   * Per announced event, its deliveries' ids and the index of its `dispatchedAt` UPDATE: a run that
   * lost the race to another enqueues nothing (its guarded INSERTs wrote nothing either). The INSERT
   * and the UPDATE commit together, so a won claim means the rows exist — but for an endpoint deleted
   * or disabled since the read, whose message then finds no delivery to claim (a no-op job).
   */
  const claims: { deliveryIds: string[]; at: number }[] = [];
  for (const e of due) {
    const subscribers = subscriptions
      .filter((s) => s.events.includes("*") || s.events.includes(e.type))
      .map((s) => s.id);
    if (subscribers.length === 0) {
      // nobody listens: settle it without rendering (an endpoint added later starts from its own time)
      statements.push(
        svc.d1
          .prepare("UPDATE webhookEvents SET dispatchedAt = ? WHERE id = ? AND dispatchedAt IS NULL")
          .bind(now, e.id),
      );
      continue;
    }
    const body = await renderBody(svc, e);
    const prefix = `${newId("whd")}_`;
    for (let i = 0; i < subscribers.length; i += ENDPOINTS_PER_INSERT) {
      statements.push(insertDeliveries(svc, e, prefix, subscribers.slice(i, i + ENDPOINTS_PER_INSERT), now));
    }
    claims.push({ deliveryIds: subscribers.map((id) => prefix + id), at: statements.length });
    statements.push(
      svc.d1
        .prepare("UPDATE webhookEvents SET body = ?, dispatchedAt = ? WHERE id = ? AND dispatchedAt IS NULL")
        .bind(body, now, e.id),
    );
  }
  const results = await svc.d1.batch(statements);
  const messages: QueueMessage[] = claims
    .filter((c) => (results[c.at]?.meta.changes ?? 0) > 0)
    .flatMap((c) => c.deliveryIds.map((deliveryId) => ({ type: "webhooks.deliver" as const, deliveryId })));
  if (due.length === limit) messages.push({ type: "webhooks.dispatch" });
  if (messages.length > 0) await enqueueMany(svc, messages);
  return due.length;
}

/** The job behind a nudge. */
export async function dispatchJob(svc: ServiceContext): Promise<void> {
  await dispatchEvents(svc);
}
