/**
 * POST /v1/webhooks/stripe: verify the signature on the raw body, record the event, find the order,
 * enqueue its settlement and answer 2xx at once. Unknown event types and unknown orders are
 * acknowledged and ignored (Stripe would otherwise retry them for days).
 */
import { eq } from "drizzle-orm";
import { creditPurchaseOrders, stripeEvents } from "../../db/schema";
import type { ServiceContext } from "../../http/context";
import { type CheckoutSession, type StripeEvent, verifyWebhook } from "../../providers/stripe";
import { enqueue } from "../../queues/enqueue";

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
  action: "enqueued" | "ignored";
  reason?: string;
}

export async function handleStripeWebhook(
  svc: ServiceContext,
  rawBody: string,
  signature: string | undefined,
): Promise<WebhookResult> {
  const event = await verifyWebhook(svc.config, rawBody, signature);
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
  await svc.db
    .insert(stripeEvents)
    .values({
      id: event.id,
      type: event.type,
      checkoutSessionId: sessionId,
      orderId: order?.id ?? null,
      receivedAt: Date.now(),
    })
    .onConflictDoNothing();

  const ignore = (reason: string): WebhookResult => {
    console.log(
      JSON.stringify({ level: "info", msg: "stripe event ignored", eventId: event.id, type: event.type, reason }),
    );
    return { received: true, action: "ignored", reason };
  };
  if (!outcome) return ignore(session ? "not a settling event" : "unhandled event type");
  if (!order) return ignore("unknown order");
  if (order.stripeCheckoutSessionId && sessionId && order.stripeCheckoutSessionId !== sessionId) {
    return ignore("checkout session does not match the order");
  }
  if (order.status !== "pending") return ignore(`order already ${order.status}`);
  const paymentIntent = typeof session?.payment_intent === "string" ? session.payment_intent : null;
  if (paymentIntent && !order.stripePaymentIntentId) {
    await svc.db
      .update(creditPurchaseOrders)
      .set({ stripePaymentIntentId: paymentIntent })
      .where(eq(creditPurchaseOrders.id, order.id));
  }
  await enqueue(svc, { type: "stripe.fulfil", orderId: order.id, eventId: event.id, outcome });
  return { received: true, action: "enqueued" };
}
