/**
 * What happens to a payment outside the API: a refund made in Stripe's dashboard, a dispute the
 * cardholder's bank opens and later decides. The control routes (`/__control/stripe/*`) and the
 * hosted page's buttons both call these, so the two always behave alike. Each waits for the first
 * delivery of its events, so when it answers, the API has had its chance to see them.
 */
import type { State } from "../state.ts";
import type { Refused } from "./api.ts";
import { closeDispute, openDispute } from "./disputes.ts";
import { dispatch, sentSummary } from "./events.ts";
import { chargeOfIntent, chargeView } from "./payments.ts";
import { refundCharge } from "./refunds.ts";
import type { Dispute, Refund, SentEvent, StoredCharge } from "./store.ts";

/** Names a payment by its PaymentIntent or by the Checkout Session that was paid. */
export interface PaymentRef {
  paymentIntent?: unknown;
  checkoutSessionId?: unknown;
}

export type Done<T> = { body: T; sent: ReturnType<typeof sentSummary> };

export function chargeOfRef(state: State, ref: PaymentRef): StoredCharge | Refused {
  if (typeof ref.paymentIntent === "string") {
    return (
      chargeOfIntent(state, ref.paymentIntent) ?? {
        status: 404,
        code: "resource_missing",
        param: "paymentIntent",
        message: `No such payment_intent: '${ref.paymentIntent}'`,
      }
    );
  }
  if (typeof ref.checkoutSessionId !== "string") {
    return { status: 400, message: "Name the payment: paymentIntent or checkoutSessionId (a string)" };
  }
  const s = state.stripe.checkoutSessions.get(ref.checkoutSessionId);
  if (!s) {
    return {
      status: 404,
      code: "resource_missing",
      param: "checkoutSessionId",
      message: `No such checkout.session: '${ref.checkoutSessionId}'`,
    };
  }
  const charge = s.payment_intent ? chargeOfIntent(state, s.payment_intent) : undefined;
  return charge ?? { status: 400, message: `Checkout Session ${s.id} is not paid (status ${s.status})` };
}

async function delivered<T>(state: State, body: T, events: SentEvent[]): Promise<Done<T>> {
  return { body, sent: sentSummary(events, await dispatch(state, events)) };
}

/** A dashboard refund (no Idempotency-Key, no API request): `amount` defaults to all that is left. */
export async function dashboardRefund(
  state: State,
  ref: PaymentRef,
  amount?: unknown,
): Promise<Done<{ refund: Refund; charge: ReturnType<typeof chargeView> }> | Refused> {
  if (amount !== undefined && (typeof amount !== "number" || !Number.isInteger(amount) || amount < 1)) {
    return { status: 400, param: "amount", message: "amount must be a positive integer (cents)" };
  }
  const charge = chargeOfRef(state, ref);
  if ("status" in charge) return charge;
  const out = refundCharge(state, charge, { amount, reason: "requested_by_customer" }, null);
  if ("status" in out) return out;
  return delivered(state, { refund: out.refund, charge: chargeView(charge) }, out.events);
}

export async function dashboardDispute(state: State, ref: PaymentRef): Promise<Done<{ dispute: Dispute }> | Refused> {
  const charge = chargeOfRef(state, ref);
  if ("status" in charge) return charge;
  const out = openDispute(state, charge);
  if ("status" in out) return out;
  return delivered(state, { dispute: out.dispute }, out.events);
}

export async function dashboardCloseDispute(
  state: State,
  id: string,
  status: unknown,
): Promise<Done<{ dispute: Dispute }> | Refused> {
  const out = closeDispute(state, id, status);
  if ("status" in out) return out;
  return delivered(state, { dispute: out.dispute }, out.events);
}
