/**
 * The cron's part of outgoing webhooks, each step a query on due rows through its own index: the
 * fan-out of events whose nudge was lost, deliveries whose next attempt is due (a lost queue
 * message, an attempt that crashed past its lease, the test clock moved ahead), and endpoints that
 * failed every attempt for five days — disabled, with every admin notified, in one batch.
 */
import type { ServiceContext } from "../../context";
import { enqueueMany } from "../../queues/enqueue";
import { SYSTEM_ACTOR } from "../audit/actions";
import { auditEntry, insertAudit } from "../audit/store";
import { insertAdminNotifications } from "../notifications/store";
import { dispatchEvents } from "./fanout";

export const AUTO_DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;
const DUE_BATCH = 100;

/** Re-enqueues up to DUE_BATCH due deliveries (the attempt's claim makes a duplicate harmless). */
export async function enqueueDueDeliveries(svc: ServiceContext, now = svc.clock.now()): Promise<number> {
  const { results } = await svc.d1
    .prepare(
      "SELECT id FROM webhookDeliveries WHERE status = 'pending' AND nextAttemptAt <= ? ORDER BY nextAttemptAt LIMIT ?",
    )
    .bind(now, DUE_BATCH)
    .all<{ id: string }>();
  if (results.length > 0) {
    await enqueueMany(
      svc,
      results.map((d) => ({ type: "webhooks.deliver" as const, deliveryId: d.id })),
    );
  }
  return results.length;
}

/** Disables the endpoints failing for AUTO_DISABLE_AFTER_MS; returns their ids. */
export async function disableFailingEndpoints(svc: ServiceContext, now = svc.clock.now()): Promise<string[]> {
  const cutoff = now - AUTO_DISABLE_AFTER_MS;
  const { results } = await svc.d1
    .prepare(
      "SELECT id, url, failingSince FROM webhookEndpoints WHERE enabled = 1 AND failingSince IS NOT NULL AND failingSince <= ? ORDER BY failingSince LIMIT 50",
    )
    .bind(cutoff)
    .all<{ id: string; url: string; failingSince: number }>();
  for (const e of results) {
    // the notices and the audit row run first, guarded by the UPDATE's own precondition
    const still = {
      sql: "EXISTS (SELECT 1 FROM webhookEndpoints WHERE id = ? AND enabled = 1 AND failingSince = ?)",
      binds: [e.id, e.failingSince],
    };
    await svc.d1.batch([
      insertAdminNotifications(
        svc.d1,
        {
          type: "webhook_endpoint_disabled",
          data: { endpointId: e.id, url: e.url, failingSince: e.failingSince },
          dedupeKey: `webhook_endpoint_disabled:${e.id}:${e.failingSince}`,
          at: now,
        },
        still,
      ),
      insertAudit(
        svc.d1,
        auditEntry(svc, SYSTEM_ACTOR, "webhook_endpoint.auto_disable", e.id, { failingSince: e.failingSince }, now),
        still,
      ),
      svc.d1
        .prepare(
          "UPDATE webhookEndpoints SET enabled = 0, disabledAt = ?, updatedAt = ? WHERE id = ? AND enabled = 1 AND failingSince = ?",
        )
        .bind(now, now, e.id, e.failingSince),
    ]);
  }
  return results.map((e) => e.id);
}

export async function sweepWebhooks(svc: ServiceContext): Promise<void> {
  await dispatchEvents(svc);
  await enqueueDueDeliveries(svc);
  await disableFailingEndpoints(svc);
}
