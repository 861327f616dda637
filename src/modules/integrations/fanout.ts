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

/** Events per run: two statements each in one batch; a full run continues on the queue. */
export const DISPATCH_BATCH = 50;

interface EventRow {
  id: string;
  type: WebhookEventType;
  snapshot: string;
  createdAt: number;
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
  const subscriptions = ((endpoints?.results ?? []) as { events: string }[]).map(
    (e) => JSON.parse(e.events) as string[],
  );
  const now = svc.clock.now();
  const statements: D1PreparedStatement[] = [];
  /** Per announced event, the index of its `dispatchedAt` UPDATE: a run that lost the race to another enqueues nothing. */
  const claims: { eventId: string; at: number }[] = [];
  for (const e of due) {
    const wanted = subscriptions.some((s) => s.includes("*") || s.includes(e.type));
    if (!wanted) {
      // nobody listens: settle it without rendering (an endpoint added later starts from its own time)
      statements.push(
        svc.d1
          .prepare("UPDATE webhookEvents SET dispatchedAt = ? WHERE id = ? AND dispatchedAt IS NULL")
          .bind(now, e.id),
      );
      continue;
    }
    const body = await renderBody(svc, e);
    statements.push(
      svc.d1
        .prepare(
          `INSERT INTO webhookDeliveries (id, endpointId, eventId, eventType, status, attempts, nextAttemptAt, createdAt, updatedAt)
SELECT ? || w.id, w.id, ?, ?, 'pending', 0, ?, ?, ? FROM webhookEndpoints AS w
WHERE w.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value IN ('*', ?))
  AND EXISTS (SELECT 1 FROM webhookEvents WHERE id = ? AND dispatchedAt IS NULL)
ON CONFLICT (endpointId, eventId) DO NOTHING`,
        )
        .bind(`${newId("whd")}_`, e.id, e.type, now, now, now, e.type, e.id),
    );
    claims.push({ eventId: e.id, at: statements.length });
    statements.push(
      svc.d1
        .prepare("UPDATE webhookEvents SET body = ?, dispatchedAt = ? WHERE id = ? AND dispatchedAt IS NULL")
        .bind(body, now, e.id),
    );
  }
  const results = await svc.d1.batch(statements);
  const announced = claims.filter((c) => (results[c.at]?.meta.changes ?? 0) > 0).map((c) => c.eventId);
  const messages: QueueMessage[] = [];
  if (announced.length > 0) {
    const { results } = await svc.d1
      .prepare(
        "SELECT id FROM webhookDeliveries WHERE eventId IN (SELECT value FROM json_each(?)) AND status = 'pending' AND attempts = 0",
      )
      .bind(JSON.stringify(announced))
      .all<{ id: string }>();
    for (const d of results) messages.push({ type: "webhooks.deliver", deliveryId: d.id });
  }
  if (due.length === limit) messages.push({ type: "webhooks.dispatch" });
  if (messages.length > 0) await enqueueMany(svc, messages);
  return due.length;
}

/** The job behind a nudge. */
export async function dispatchJob(svc: ServiceContext): Promise<void> {
  await dispatchEvents(svc);
}
