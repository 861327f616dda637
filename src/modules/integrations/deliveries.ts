/** An endpoint's delivery log (newest first) and an admin's manual retry. */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { type WebhookEventType, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, notFound } from "../../lib/errors";
import { enqueue } from "../../queues/enqueue";
import { auditEntry, insertAudit } from "../audit/store";

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const deliveryView = (d: DeliveryRow) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType as WebhookEventType,
  status: d.status,
  attempts: d.attempts,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  lastResponseBody: d.lastResponseBody,
  nextAttemptAt: d.nextAttemptAt,
  deliveredAt: d.deliveredAt,
  createdAt: d.createdAt,
  updatedAt: d.updatedAt,
});

export async function listDeliveries(svc: ServiceContext, endpointId: string, q: { limit: number; cursor?: string }) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const [endpoint, rows] = await svc.db.batch([
    svc.db.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)),
    svc.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpointId),
          keysetAfter(webhookDeliveries.createdAt, webhookDeliveries.id, after),
        ),
      )
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(q.limit + 1),
  ]);
  if (endpoint.length === 0) throw notFound("Webhook endpoint");
  return page(rows, q.limit, deliveryView, (d) => [d.createdAt, d.id]);
}

/**
 * One more attempt now. A pending delivery keeps its schedule after it; a failed (or delivered) one
 * is tried once (`finalAttempt`) and is not put back on the schedule. Refused (409) while the
 * endpoint is disabled: the attempt would fail at once.
 */
export async function retryDelivery(svc: ServiceContext, adminId: string, id: string) {
  const row = await svc.db
    .select({ delivery: webhookDeliveries, enabled: webhookEndpoints.enabled })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, id))
    .get();
  if (!row) throw notFound("Webhook delivery");
  if (!row.enabled) throw conflict("The endpoint is disabled: enable it first");
  const now = svc.clock.now();
  const final = row.delivery.status !== "pending";
  await svc.d1.batch([
    svc.d1
      .prepare(
        "UPDATE webhookDeliveries SET status = 'pending', nextAttemptAt = ?, finalAttempt = ?, updatedAt = ? WHERE id = ?",
      )
      .bind(now, final ? 1 : 0, now, id),
    insertAudit(
      svc.d1,
      auditEntry(
        svc,
        adminId,
        "webhook_delivery.retry",
        id,
        { eventId: row.delivery.eventId, from: row.delivery.status },
        now,
      ),
    ),
  ]);
  await enqueue(svc, { type: "webhooks.deliver", deliveryId: id });
  const updated = await svc.db.query.webhookDeliveries.findFirst({ where: eq(webhookDeliveries.id, id) });
  if (!updated) throw notFound("Webhook delivery");
  return deliveryView(updated);
}
