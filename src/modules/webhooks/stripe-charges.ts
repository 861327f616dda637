/**
 * Charge-level Stripe events (a card refund, a dispute) as `stripe.charge` queue messages. The Charge
 * and Dispute objects name the payment intent, which names the order.
 */
import type Stripe from "stripe";
import type { StripeEvent } from "../../providers/stripe";
import type { QueueMessage } from "../../queues/messages";

type ChargeMessage = Extract<QueueMessage, { type: "stripe.charge" }>;

const idOf = (v: string | { id: string } | null | undefined) => (typeof v === "string" ? v : (v?.id ?? null));

export function chargeMessage(event: StripeEvent): ChargeMessage | null {
  if (event.type === "charge.refunded") {
    const charge = event.data.object as Stripe.Charge;
    const paymentIntent = idOf(charge.payment_intent);
    if (!paymentIntent || !(charge.amount > 0)) return null;
    return {
      type: "stripe.charge",
      eventId: event.id,
      paymentIntent,
      kind: "refund",
      amount: charge.amount,
      amountRefunded: Math.max(0, Math.trunc(charge.amount_refunded)),
    };
  }
  if (event.type === "charge.dispute.created" || event.type === "charge.dispute.closed") {
    const dispute = event.data.object as Stripe.Dispute;
    const paymentIntent = idOf(dispute.payment_intent);
    const closed = event.type === "charge.dispute.closed";
    // Only the two final verdicts move money; `warning_closed` and the like close nothing we hold.
    const verdict = dispute.status === "won" ? "won" : dispute.status === "lost" ? "lost" : null;
    const status = closed ? verdict : "open";
    if (!paymentIntent || !status || !(dispute.amount > 0)) return null;
    return {
      type: "stripe.charge",
      eventId: event.id,
      paymentIntent,
      kind: "dispute",
      amount: dispute.amount,
      disputeId: dispute.id,
      disputeStatus: status,
    };
  }
  return null;
}
