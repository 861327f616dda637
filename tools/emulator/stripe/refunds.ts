/**
 * Refunds: `POST /v1/refunds` (by `payment_intent` or `charge`; Idempotency-Key honoured; refused
 * with Stripe's codes), `GET /v1/refunds/:id`, `GET /v1/refunds?payment_intent=|charge=`.
 * Every refund, through the API or the dashboard, sends `refund.created` then `charge.refunded`.
 */
import { type Call, send } from "../http.ts";
import { rid, type State, unixSeconds } from "../state.ts";
import { acceptForm, metadataProblem, type Problem, type Refused, stripeError, stripeErrorBody } from "./api.ts";
import { createEvent, dispatch, type EventContext } from "./events.ts";
import { chargeOfIntent, chargeView, eventContext, money, unrefunded } from "./payments.ts";
import type { Refund, SentEvent, StoredCharge } from "./store.ts";

const KNOWN_PARAMS = new Set([
  "amount",
  "charge",
  "currency",
  "customer",
  "expand",
  "instructions_email",
  "metadata",
  "origin",
  "payment_intent",
  "reason",
  "refund_application_fee",
  "reverse_transfer",
]);
const REASONS = new Set(["duplicate", "fraudulent", "requested_by_customer"]);

export interface RefundInput {
  /** default: all that is left */
  amount?: number;
  reason?: Refund["reason"];
  metadata?: Record<string, string>;
}

/**
 * Refunds `charge` if Stripe would: not while disputed (unless the dispute was won), not beyond
 * what is left. On success the events are built (not yet delivered): hand them to `dispatch`.
 */
export function refundCharge(
  state: State,
  charge: StoredCharge,
  input: RefundInput,
  request: EventContext["request"],
): { refund: Refund; events: SentEvent[] } | Refused {
  const left = unrefunded(charge);
  if (charge.dispute && charge.dispute.status !== "won") {
    return { status: 400, code: "charge_disputed", message: `Charge ${charge.id} has been charged back.` };
  }
  if (left === 0) {
    return { status: 400, code: "charge_already_refunded", message: `Charge ${charge.id} has already been refunded.` };
  }
  const amount = input.amount ?? left;
  if (amount > left) {
    const what = charge.amountRefunded > 0 ? "unrefunded amount on charge" : "charge amount";
    return {
      status: 400,
      code: "amount_too_large",
      param: "amount",
      message: `Refund amount (${money(amount, charge.currency)}) is greater than ${what} (${money(left, charge.currency)})`,
    };
  }
  const refund: Refund = {
    id: rid("re"),
    object: "refund",
    amount,
    balance_transaction: null,
    charge: charge.id,
    created: unixSeconds(),
    currency: charge.currency,
    metadata: input.metadata ?? {},
    payment_intent: charge.paymentIntent,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
  charge.refunds.push(refund);
  charge.amountRefunded += amount;
  state.stripe.refunds.push(refund);
  state.log.info(`stripe refund ${refund.id}: ${amount} ${charge.currency} of ${charge.id}`);
  const ctx = eventContext(charge, request);
  const events = [
    createEvent(state, "refund.created", refund, ctx),
    createEvent(state, "charge.refunded", chargeView(charge), ctx),
  ];
  return { refund, events };
}

/** Parameter checks Stripe makes before looking anything up (answered 400, never stored for a key). */
function paramProblem(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!KNOWN_PARAMS.has(k))
      return { message: `Received unknown parameter: ${k}`, param: k, code: "parameter_unknown" };
  }
  if (p.payment_intent === undefined && p.charge === undefined) {
    return { message: "One of the following params should be provided for this request: payment_intent or charge." };
  }
  if (p.amount !== undefined && (!/^\d+$/.test(String(p.amount)) || Number(p.amount) < 1)) {
    return {
      message: `Invalid positive integer: ${String(p.amount)}`,
      param: "amount",
      code: "parameter_invalid_integer",
    };
  }
  if (p.reason !== undefined && !REASONS.has(String(p.reason))) {
    return {
      message: "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
      param: "reason",
    };
  }
  if (p.currency !== undefined && !/^[a-z]{3}$/.test(String(p.currency))) {
    return { message: `Invalid currency: ${String(p.currency)}`, param: "currency" };
  }
  return metadataProblem(p.metadata);
}

/** The charge a refund request names, or why there is none. */
function targetOf(state: State, p: Record<string, unknown>): StoredCharge | Refused {
  const missing = (kind: string, id: string): Refused => ({
    status: 400,
    code: "resource_missing",
    param: kind,
    message: `No such ${kind}: '${id}'`,
  });
  const byIntent = p.payment_intent === undefined ? undefined : String(p.payment_intent);
  const byCharge = p.charge === undefined ? undefined : String(p.charge);
  const charge = byCharge !== undefined ? state.stripe.charges.get(byCharge) : chargeOfIntent(state, byIntent ?? "");
  if (!charge) return byCharge !== undefined ? missing("charge", byCharge) : missing("payment_intent", byIntent ?? "");
  if (byIntent !== undefined && charge.paymentIntent !== byIntent) {
    return {
      status: 400,
      param: "payment_intent",
      message: `The charge ${charge.id} does not belong to the PaymentIntent ${byIntent}.`,
    };
  }
  if (p.currency !== undefined && p.currency !== charge.currency) {
    return { status: 400, param: "currency", message: `Currency must be ${charge.currency} for this charge.` };
  }
  return charge;
}

function create(state: State, call: Call): true {
  const { res, headers } = call;
  const form = acceptForm(state, call, paramProblem);
  if (!form) return true;
  const p = form.params;
  const charge = targetOf(state, p);
  if ("status" in charge) {
    state.log.loud("stripe", call, charge.message);
    return stripeError(res, charge.status, charge.message, charge);
  }
  // the id stripe/index.ts put on this answer: the events name the request that caused them
  const requestId = String(res.getHeader("request-id") ?? rid("req"));
  const out = refundCharge(
    state,
    charge,
    {
      amount: p.amount === undefined ? undefined : Number(p.amount),
      reason: (p.reason as Refund["reason"] | undefined) ?? null,
      metadata: p.metadata as Record<string, string> | undefined,
    },
    { id: requestId, idempotency_key: headers["idempotency-key"] ?? null },
  );
  if ("status" in out) {
    // a refusal after the request started executing: Stripe keeps it for the key, like a success
    state.log.warn(`stripe refused a refund of ${charge.id}: ${out.message}`);
    const body = stripeErrorBody(out.message, out);
    form.remember(out.status, body);
    return send(res, out.status, body);
  }
  form.remember(200, out.refund);
  send(res, 200, out.refund);
  // answered first, delivered after: like Stripe, the webhook never waits on (or races) the API call's reply
  void dispatch(state, out.events);
  return true;
}

/** `/v1/refunds[/:id]`; false for any other path. */
export function refunds(state: State, call: Call): boolean {
  const { path, method, res, url } = call;
  if (path === "/v1/refunds" && method === "POST") return create(state, call);
  const all = [...state.stripe.refunds].reverse();
  if (path === "/v1/refunds" && method === "GET") {
    const pi = url.searchParams.get("payment_intent");
    const ch = url.searchParams.get("charge");
    const data = all.filter((r) => (!pi || r.payment_intent === pi) && (!ch || r.charge === ch));
    return send(res, 200, { object: "list", data, has_more: false, url: "/v1/refunds" });
  }
  const one = /^\/v1\/refunds\/([^/]+)$/.exec(path);
  if (!one || method !== "GET") return false;
  const id = decodeURIComponent(one[1] as string);
  const found = all.find((r) => r.id === id);
  if (found) return send(res, 200, found);
  state.log.loud("stripe", call, `no such refund ${id}`);
  return stripeError(res, 404, `No such refund: '${id}'`, { param: "id", code: "resource_missing" });
}
