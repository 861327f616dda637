/**
 * POST /v1/webhooks/stripe: verify the signature on the raw body, record the event, find the order,
 * enqueue its effect and answer 2xx at once. Checkout events settle orders (`stripe.fulfil`); charge
 * events (refunds, disputes) move credits back out (`stripe.charge`); a payment for an order that is
 * already `failed` / `expired` is refunded (`stripe.refund_payment`). Unknown event types, unknown
 * orders and payments that do not match their order are acknowledged and never credited (Stripe would
 * otherwise retry them for days); mismatches are recorded for admins. Connect events (a tutor's
 * account, a reversed payout transfer) are handled in stripe-connect.ts.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { creditPurchaseOrders } from "../../db/schema";
import { type CheckoutSession, type StripeEvent, verifyWebhook } from "../../providers/stripe";
import { enqueue } from "../../queues/enqueue";
import { paymentMismatch, recordMismatch } from "../credits/payment-checks";
import { chargeMessage } from "./stripe-charges";
import { handleConnectEvent } from "./stripe-connect";
import { markEventProcessed, recordEvent } from "./stripe-events";

export { markEventProcessed };

type Outcome = "paid" | "failed" | "expired";

function outcomeOf(event: StripeEvent): Outcome | null {
  switch (event.type) {
    case "checkout.session.completed": {
      const status = (event.data.object as CheckoutSession).payment_status;
      return status === "paid" || status === "no_payment_required" ? "paid" : null;
    }
    case "checkout.session.async_payment_succeeded":
      return "paid";
    case "checkout.session.async_payment_failed":
      return "failed";
    case "checkout.session.expired":
      return "expired";
    default:
      return null;
  }
}

export interface WebhookResult {
  received: true;
  /** `applied`: a Connect event whose effect was written before the answer (stripe-connect.ts). */
  action: "enqueued" | "applied" | "ignored";
  reason?: string;
}

export async function handleStripeWebhook(
  svc: ServiceContext,
  rawBody: string,
  signature: string | undefined,
): Promise<WebhookResult> {
  const event = await verifyWebhook(svc.config, rawBody, signature);
  const ignore = async (reason: string): Promise<WebhookResult> => {
    console.log(
      JSON.stringify({ level: "info", msg: "stripe event ignored", eventId: event.id, type: event.type, reason }),
    );
    await markEventProcessed(svc, event.id, `ignored: ${reason}`);
    return { received: true, action: "ignored", reason };
  };

  const connect = await handleConnectEvent(svc, event);
  if (connect) {
    return connect.action === "applied"
      ? { received: true, action: "applied" }
      : { received: true, action: "ignored", reason: connect.outcome };
  }

  const charge = chargeMessage(event);
  if (charge) {
    const order = await svc.db.query.creditPurchaseOrders.findFirst({
      where: eq(creditPurchaseOrders.stripePaymentIntentId, charge.paymentIntent),
      columns: { id: true },
    });
    await recordEvent(svc, event, null, order?.id ?? null);
    // An unknown payment intent is still enqueued: its checkout event may not have arrived yet, and
    // the job retries until the order knows its payment (then dead-letters for admins).
    await enqueue(svc, charge);
    return { received: true, action: "enqueued" };
  }

  const outcome = outcomeOf(event);
  const session = event.type.startsWith("checkout.session.") ? (event.data.object as Partial<CheckoutSession>) : null;
  const sessionId = typeof session?.id === "string" ? session.id : null;
  const orderId = session?.client_reference_id ?? session?.metadata?.orderId ?? null;

  let order = orderId
    ? await svc.db.query.creditPurchaseOrders.findFirst({ where: eq(creditPurchaseOrders.id, orderId) })
    : undefined;
  if (!order && sessionId) {
    order = await svc.db.query.creditPurchaseOrders.findFirst({
      where: eq(creditPurchaseOrders.stripeCheckoutSessionId, sessionId),
    });
  }
  await recordEvent(svc, event, sessionId, order?.id ?? null);

  if (!outcome) return ignore(session ? "not a settling event" : "unhandled event type");
  if (!order) return ignore("unknown order");
  if (order.stripeCheckoutSessionId && sessionId && order.stripeCheckoutSessionId !== sessionId) {
    return ignore("checkout session does not match the order");
  }
  const paymentIntent = typeof session?.payment_intent === "string" ? session.payment_intent : null;
  if (outcome === "paid") {
    const mismatch = paymentMismatch(svc.config, order, {
      amount: session?.amount_total ?? null,
      currency: session?.currency ?? null,
      livemode: event.livemode,
    });
    if (mismatch) {
      await recordMismatch(svc, { orderId: order.id, eventId: event.id, reason: mismatch });
      return ignore(`payment does not match the order: ${mismatch}`);
    }
  }
  if (paymentIntent && !order.stripePaymentIntentId) {
    await svc.db
      .update(creditPurchaseOrders)
      .set({ stripePaymentIntentId: paymentIntent })
      .where(eq(creditPurchaseOrders.id, order.id));
  }
  if (outcome === "paid" && (order.status === "failed" || order.status === "expired") && paymentIntent) {
    // Money arrived for an order that will never be credited: give it back.
    await enqueue(svc, {
      type: "stripe.refund_payment",
      orderId: order.id,
      paymentIntent,
      amountCents: session?.amount_total ?? order.totalCents,
      eventId: event.id,
    });
    return { received: true, action: "enqueued" };
  }
  if (order.status !== "pending") return ignore(`order already ${order.status}`);
  await enqueue(svc, { type: "stripe.fulfil", orderId: order.id, eventId: event.id, outcome });
  return { received: true, action: "enqueued" };
}
