/**
 * Purchase settlement. The Stripe webhook verifies and records the event, then enqueues
 * `stripe.fulfil`; this job settles the order: `paid` credits it through CreditLedger (ledger entry +
 * order `completed` + notification in one batch), `failed`/`expired` settle it without credits. An
 * order only moves forward from `pending`: a settled order never changes again, so duplicates,
 * second event objects and out-of-order events change nothing.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { creditPurchaseOrders, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor } from "../../ledger/client";
import { newId } from "../../lib/crypto";
import { enqueue, enqueueEmail } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { insertNotification } from "../notifications/store";
import { markEventProcessed } from "../webhooks/stripe";

type FulfilMessage = Extract<QueueMessage, { type: "stripe.fulfil" }>;

export async function fulfilOrderJob(svc: ServiceContext, m: FulfilMessage): Promise<void> {
  await settleOrder(svc, m);
  await markEventProcessed(svc, m.eventId, `settled: ${m.outcome}`);
}

async function settleOrder(svc: ServiceContext, m: FulfilMessage): Promise<void> {
  const order = await svc.db.query.creditPurchaseOrders.findFirst({ where: eq(creditPurchaseOrders.id, m.orderId) });
  if (!order) {
    console.log(
      JSON.stringify({ level: "warn", msg: "fulfil: unknown order", orderId: m.orderId, eventId: m.eventId }),
    );
    return;
  }
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, order.userId) });
  if (m.outcome === "paid") {
    if (order.status === "failed" || order.status === "expired") {
      // Settled as unpaid while this payment was in flight: the money goes back to the card.
      if (order.stripePaymentIntentId) {
        await enqueue(svc, {
          type: "stripe.refund_payment",
          orderId: order.id,
          paymentIntent: order.stripePaymentIntentId,
          amountCents: order.totalCents,
          eventId: m.eventId,
        });
      }
      return;
    }
    const result = await ledgerFor(svc.env, order.userId).creditPurchase(order.userId, order.id, svc.clock.now());
    if (!result.ok) {
      // A settled (failed/expired) order is never credited; nothing else can make this succeed later.
      console.log(
        JSON.stringify({ level: "warn", msg: "fulfil: not credited", orderId: order.id, reason: result.detail }),
      );
      return;
    }
    if (user) {
      await enqueueEmail(svc, {
        to: user.email,
        idempotencyKey: `payment_completed:${order.id}`,
        ...templates.paymentCompleted(order.totalCredits, result.balance),
      });
    }
    return;
  }
  const target = m.outcome === "failed" ? "failed" : "expired";
  // Settled elsewhere: nothing to do (a retry of this same outcome only re-sends its deduplicated e-mail).
  if (order.status !== "pending" && order.status !== target) return;
  const now = svc.clock.now();
  if (order.status === "pending") {
    const stamp = target === "failed" ? "failedAt" : "expiredAt";
    await svc.d1.batch([
      svc.d1
        .prepare(
          `UPDATE creditPurchaseOrders SET status = ?, ${stamp} = ?, updatedAt = ? WHERE id = ? AND status = 'pending'`,
        )
        .bind(target, now, now, order.id),
      ...(target === "failed"
        ? [
            insertNotification(
              svc.d1,
              {
                id: newId("ntf"),
                userId: order.userId,
                type: "payment_failed",
                data: { orderId: order.id },
                dedupeKey: `payment_failed:${order.id}`,
                createdAt: now,
              },
              {
                sql: "EXISTS (SELECT 1 FROM creditPurchaseOrders WHERE id = ? AND status = 'failed')",
                binds: [order.id],
              },
            ),
          ]
        : []),
    ]);
  }
  if (target === "failed" && user) {
    const current = await svc.db.query.creditPurchaseOrders.findFirst({
      where: eq(creditPurchaseOrders.id, order.id),
      columns: { status: true },
    });
    if (current?.status === "failed") {
      await enqueueEmail(svc, {
        to: user.email,
        idempotencyKey: `payment_failed:${order.id}`,
        ...templates.paymentFailed(),
      });
    }
  }
}
