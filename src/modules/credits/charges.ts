/**
 * `stripe.charge` jobs: a card refund or a dispute of an order's payment, applied through the
 * student's CreditLedger (order-money.ts has the rules). The order is found by its payment intent; an
 * order that is not credited yet (its checkout event is still in flight) makes the job retry, so events
 * may arrive in any order. Each event ends with its processed marker.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { creditPurchaseOrders, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor } from "../../ledger/client";
import { enqueueEmail } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { markEventProcessed } from "../webhooks/stripe";

type ChargeMessage = Extract<QueueMessage, { type: "stripe.charge" }>;

/** Retried by the queue with backoff: the order is expected to catch up. */
export class OrderNotReadyError extends Error {
  override name = "OrderNotReadyError";
}

export async function chargeEventJob(svc: ServiceContext, m: ChargeMessage): Promise<void> {
  const order = await svc.db.query.creditPurchaseOrders.findFirst({
    where: eq(creditPurchaseOrders.stripePaymentIntentId, m.paymentIntent),
    columns: { id: true, userId: true, status: true },
  });
  if (!order) throw new OrderNotReadyError(`no order knows payment ${m.paymentIntent} yet`);
  if (order.status === "pending") throw new OrderNotReadyError(`order ${order.id} is not credited yet`);
  if (order.status !== "completed") {
    // Never credited: there is nothing to take back (a late payment is refunded by stripe.refund_payment).
    await markEventProcessed(svc, m.eventId, `nothing: order ${order.status}`);
    return;
  }
  const ledger = ledgerFor(svc.env, order.userId);
  const at = svc.clock.now();
  const result =
    m.kind === "refund"
      ? await ledger.applyCardRefund({
          userId: order.userId,
          orderId: order.id,
          eventId: m.eventId,
          amountRefunded: m.amountRefunded ?? 0,
          chargeAmount: m.amount,
          at,
        })
      : await ledger.applyDispute({
          userId: order.userId,
          orderId: order.id,
          disputeId: m.disputeId ?? "",
          status: m.disputeStatus ?? "open",
          at,
        });
  if (!result.ok) {
    if (result.code === "conflict" && result.detail.startsWith("The order changed")) throw new Error(result.detail);
    await markEventProcessed(svc, m.eventId, `refused: ${result.detail}`);
    return;
  }
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, order.userId), columns: { email: true } });
  if (user && (result.reversed > 0 || result.reinstated > 0)) {
    const level = result.order.reversedCredits;
    const mail =
      result.reinstated > 0
        ? templates.paymentReinstated(result.reinstated, result.balance)
        : m.kind === "dispute"
          ? templates.paymentDisputed(result.reversed, result.balance)
          : templates.paymentRefunded(result.reversed, result.balance);
    await enqueueEmail(svc, { to: user.email, idempotencyKey: `${m.kind}:${order.id}:${m.eventId}:${level}`, ...mail });
  }
  const outcome =
    result.reinstated > 0
      ? `reinstated ${result.reinstated}`
      : result.reversed > 0
        ? `reversed ${result.reversed}`
        : "nothing: already applied";
  await markEventProcessed(svc, m.eventId, outcome);
}
