/** Charge-level Stripe events (refunds, disputes) as Stripe sends them, and a paid order to apply them to. */
import { createUser, env, eventually, type TestUser } from "../helpers/api";
import {
  assertChain,
  checkout,
  checkoutEvent,
  deliver,
  ledgerRows,
  newEventId,
  stripeEvent,
  waitForStatus,
} from "./helpers";

/** `charge.refunded` with the charge's cumulative `amount_refunded`. */
export function chargeRefunded(paymentIntent: string, amountRefunded: number, amount = 5000, id = newEventId()) {
  return stripeEvent(
    "charge.refunded",
    {
      id: `ch_${paymentIntent.slice(3)}`,
      object: "charge",
      amount,
      amount_refunded: amountRefunded,
      currency: "usd",
      livemode: false,
      paid: true,
      refunded: amountRefunded >= amount,
      payment_intent: paymentIntent,
    },
    id,
  );
}

export function disputeEvent(
  type: "charge.dispute.created" | "charge.dispute.closed",
  paymentIntent: string,
  disputeId: string,
  status: "needs_response" | "won" | "lost" | "warning_closed",
  amount = 5000,
  id = newEventId(),
) {
  return stripeEvent(
    type,
    {
      id: disputeId,
      object: "dispute",
      amount,
      charge: `ch_${paymentIntent.slice(3)}`,
      payment_intent: paymentIntent,
      currency: "usd",
      livemode: false,
      reason: "fraudulent",
      status,
    },
    id,
  );
}

/** Delivers `event` `times` times at once; every delivery must be acknowledged. */
export async function deliverConcurrently(event: unknown, times = 3) {
  const answers = await Promise.all(Array.from({ length: times }, () => deliver(event)));
  for (const a of answers) if (a.status !== 200) throw new Error(`webhook answered ${a.status}`);
}

/** Waits for the consumer's processed marker of a Stripe event; returns its outcome. */
export async function processed(eventId: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const row = await env.DB.prepare("SELECT processedAt, outcome FROM stripeEvents WHERE id = ?")
      .bind(eventId)
      .first<{ processedAt: number | null; outcome: string | null }>();
    return row?.processedAt ? (row.outcome ?? "") : undefined;
  }, timeoutMs);
}

export interface PaidOrder {
  student: TestUser;
  orderId: string;
  checkoutSessionId: string;
  paymentIntent: string;
}

/** A student with a completed pack_5 order (5 credits for 5000 cents), paid through the webhook. */
export async function paidOrder(student?: TestUser): Promise<PaidOrder> {
  const user = student ?? (await createUser("student"));
  const { orderId, checkoutSessionId } = await checkout(user);
  // pay at the emulator (no webhook reaches the API from there in these tests), then deliver the event
  // ourselves with the payment intent Stripe created, so refunds through the API find a real payment
  const paid = await fetch(`${env.FAKE_PROVIDERS_URL}/checkout/${checkoutSessionId}/pay`, { method: "POST" });
  if (paid.status >= 400) throw new Error(`emulator pay: ${paid.status}`);
  const session = (await (
    await fetch(`${env.FAKE_PROVIDERS_URL}/v1/checkout/sessions/${checkoutSessionId}`, {
      headers: { authorization: "Bearer sk_test_fake" },
    })
  ).json()) as { payment_intent: string };
  const event = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: user.id });
  event.data.object.payment_intent = session.payment_intent;
  await deliver(event);
  await waitForStatus(orderId, "completed");
  return { student: user, orderId, checkoutSessionId, paymentIntent: session.payment_intent };
}

export async function orderMoney(orderId: string) {
  return env.DB.prepare(
    "SELECT status, refundedCents, reversedCredits, disputeReversedCredits, disputeStatus, disputeId, stripePaymentIntentId FROM creditPurchaseOrders WHERE id = ?",
  )
    .bind(orderId)
    .first<{
      status: string;
      refundedCents: number;
      reversedCredits: number;
      disputeReversedCredits: number;
      disputeStatus: string | null;
      disputeId: string | null;
      stripePaymentIntentId: string | null;
    }>();
}

export async function entriesOf(userId: string, source: string) {
  return (
    await env.DB.prepare(
      "SELECT amount, idempotencyKey FROM creditsLedger WHERE userId = ? AND source = ? ORDER BY seq",
    )
      .bind(userId, source)
      .all<{ amount: number; idempotencyKey: string }>()
  ).results;
}

/** The chain as the ledger allows it since reversals (see assertChain); returns the final balance. */
export async function chainHolds(userId: string) {
  return assertChain(await ledgerRows(userId), { reversalsMayGoNegative: true });
}
