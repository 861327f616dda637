/**
 * A paid Checkout Session is credited only when it is the payment the order asked for: same amount,
 * same currency, same mode (test vs live) as the configured key. Anything else is never credited and is
 * recorded for admins as a dead letter, with the reason.
 */
import type { Config } from "../../config";
import type { ServiceContext } from "../../context";
import { deadLetters } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { liveModeOf } from "../../providers/stripe";

export function paymentMismatch(
  config: Config,
  order: { totalCents: number; currency: string },
  paid: { amount: number | null; currency: string | null; livemode: boolean },
): string | null {
  if (paid.amount !== null && paid.amount !== order.totalCents) {
    return `amount ${paid.amount} != ${order.totalCents}`;
  }
  if (paid.currency !== null && paid.currency.toLowerCase() !== order.currency.toLowerCase()) {
    return `currency ${paid.currency} != ${order.currency}`;
  }
  if (paid.livemode !== liveModeOf(config)) return `livemode ${paid.livemode} does not match the API key`;
  return null;
}

export async function recordMismatch(svc: ServiceContext, m: { orderId: string; eventId: string; reason: string }) {
  console.log(JSON.stringify({ level: "error", msg: "stripe payment does not match its order", ...m }));
  await svc.db
    .insert(deadLetters)
    .values({
      id: newId("dlq"),
      messageId: `mismatch:${m.eventId}`,
      queue: "stripe-webhook",
      type: "payment.mismatch",
      body: JSON.stringify({ body: { orderId: m.orderId, eventId: m.eventId }, reason: m.reason }),
      attempts: 1,
      createdAt: svc.clock.now(),
    })
    .onConflictDoNothing();
}
