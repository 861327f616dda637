/**
 * PaymentIntents and Charges: one of each is made when a hosted checkout is paid (card, test mode,
 * captured at once). `GET /v1/payment_intents/:id` and `GET /v1/charges/:id` return them.
 */
import { type Call, send } from "../http.ts";
import { rid, type State, unixSeconds } from "../state.ts";
import { stripeError } from "./api.ts";
import type { EventContext } from "./events.ts";
import type { PaymentIntent, StoredCharge, StoredSession } from "./store.ts";

/** Creates the PaymentIntent and the Charge of a session being paid; returns the PaymentIntent. */
export function recordPayment(state: State, s: StoredSession): PaymentIntent {
  const created = unixSeconds();
  const paymentMethod = rid("pm");
  const intent: PaymentIntent = {
    id: rid("pi"),
    object: "payment_intent",
    amount: s.amount_total,
    amount_capturable: 0,
    amount_received: s.amount_total,
    capture_method: "automatic_async",
    created,
    currency: s.currency,
    customer: null,
    latest_charge: rid("ch"),
    livemode: false,
    metadata: s.paymentIntentMetadata,
    payment_method: paymentMethod,
    payment_method_types: ["card"],
    status: "succeeded",
  };
  state.stripe.paymentIntents.set(intent.id, intent);
  state.stripe.charges.set(intent.latest_charge, {
    id: intent.latest_charge,
    amount: s.amount_total,
    amountRefunded: 0,
    currency: s.currency,
    created,
    paymentIntent: intent.id,
    paymentMethod,
    receiptEmail: s.customer_email,
    refunds: [],
    dispute: null,
    sessionId: s.id,
    apiVersion: s.apiVersion,
  });
  return intent;
}

/** What is left to refund. */
export const unrefunded = (c: StoredCharge) => c.amount - c.amountRefunded;

/** The Charge object as Stripe sends it (with its `refunds` list, newest first). */
export function chargeView(c: StoredCharge) {
  return {
    id: c.id,
    object: "charge",
    amount: c.amount,
    amount_captured: c.amount,
    amount_refunded: c.amountRefunded,
    balance_transaction: null,
    billing_details: { address: null, email: c.receiptEmail, name: null, phone: null },
    captured: true,
    created: c.created,
    currency: c.currency,
    customer: null,
    description: null,
    disputed: c.dispute !== null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    outcome: {
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: c.paymentIntent,
    payment_method: c.paymentMethod,
    payment_method_details: { type: "card", card: { brand: "visa", country: "US", funding: "credit", last4: "4242" } },
    receipt_email: c.receiptEmail,
    receipt_url: null,
    refunded: c.amountRefunded >= c.amount,
    refunds: {
      object: "list",
      data: [...c.refunds].reverse(),
      has_more: false,
      total_count: c.refunds.length,
      url: `/v1/charges/${c.id}/refunds`,
    },
    status: "succeeded",
  };
}

/** The charge of a PaymentIntent. */
export function chargeOfIntent(state: State, paymentIntent: string): StoredCharge | undefined {
  const pi = state.stripe.paymentIntents.get(paymentIntent);
  return pi ? state.stripe.charges.get(pi.latest_charge) : undefined;
}

/** Events about a charge name the session it was paid through and carry that session's API version. */
export const eventContext = (c: StoredCharge, request: EventContext["request"] = null): EventContext => ({
  sessionId: c.sessionId,
  paymentIntent: c.paymentIntent,
  apiVersion: c.apiVersion,
  request,
});

/** Stripe's money in messages: `$12.50`, `€3.00`, else `12.50 CHF`. */
export function money(cents: number, currency: string): string {
  const symbol = ({ usd: "$", eur: "€", gbp: "£" } as Record<string, string>)[currency];
  const value = (cents / 100).toFixed(2);
  return symbol ? `${symbol}${value}` : `${value} ${currency.toUpperCase()}`;
}

/** `GET /v1/payment_intents/:id`, `GET /v1/charges/:id`. */
export function paymentObjects(state: State, call: Call): boolean {
  const m = /^\/v1\/(payment_intents|charges)\/([^/]+)$/.exec(call.path);
  if (!m || call.method !== "GET") return false;
  const id = decodeURIComponent(m[2] as string);
  const found =
    m[1] === "payment_intents"
      ? state.stripe.paymentIntents.get(id)
      : (() => {
          const c = state.stripe.charges.get(id);
          return c && chargeView(c);
        })();
  if (found) return send(call.res, 200, found);
  const kind = m[1] === "payment_intents" ? "payment_intent" : "charge";
  state.log.loud("stripe", call, `no such ${kind} ${id}`);
  return stripeError(call.res, 404, `No such ${kind}: '${id}'`, { param: "id", code: "resource_missing" });
}
