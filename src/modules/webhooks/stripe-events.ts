/**
 * The `stripeEvents` log, shared by the checkout/charge handling (stripe.ts) and the Connect handling
 * (stripe-connect.ts): every verified event is recorded once, then marked processed with what it did.
 */
import type { ServiceContext } from "../../context";
import { stripeEvents } from "../../db/schema";
import type { StripeEvent } from "../../providers/stripe";

/** The processed marker: set once the event's effect is durable, or it was found to need none. */
export async function markEventProcessed(svc: ServiceContext, eventId: string, outcome: string) {
  await svc.d1
    .prepare("UPDATE stripeEvents SET processedAt = ?, outcome = ? WHERE id = ? AND processedAt IS NULL")
    .bind(svc.clock.now(), outcome, eventId)
    .run();
}

/** Records a verified event (a replay keeps the first record). */
export async function recordEvent(
  svc: ServiceContext,
  event: StripeEvent,
  sessionId: string | null = null,
  orderId: string | null = null,
) {
  await svc.db
    .insert(stripeEvents)
    .values({ id: event.id, type: event.type, checkoutSessionId: sessionId, orderId, receivedAt: svc.clock.now() })
    .onConflictDoNothing();
}
