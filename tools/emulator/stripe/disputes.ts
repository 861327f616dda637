/**
 * Disputes (chargebacks), which only the cardholder's bank opens: the emulator opens and closes them
 * on request (control routes, hosted page) and sends `charge.dispute.created` / `charge.dispute.closed`.
 * `GET /v1/disputes/:id` returns one.
 */
import { type Call, send } from "../http.ts";
import { rid, type State, unixSeconds } from "../state.ts";
import { type Refused, stripeError } from "./api.ts";
import { createEvent } from "./events.ts";
import { eventContext, unrefunded } from "./payments.ts";
import type { Dispute, SentEvent, StoredCharge } from "./store.ts";

const EVIDENCE_DAYS = 7;

/** Opens a dispute over what is left of the charge (`reason: fraudulent`, `status: needs_response`). */
export function openDispute(state: State, charge: StoredCharge): { dispute: Dispute; events: SentEvent[] } | Refused {
  if (charge.dispute) {
    return { status: 400, message: `Charge ${charge.id} already has a dispute (${charge.dispute.id}).` };
  }
  // a fully refunded card payment can no longer be charged back
  if (unrefunded(charge) === 0) {
    return { status: 400, code: "charge_already_refunded", message: `Charge ${charge.id} has been fully refunded.` };
  }
  const created = unixSeconds();
  const dispute: Dispute = {
    id: rid("du"),
    object: "dispute",
    amount: unrefunded(charge),
    balance_transactions: [],
    charge: charge.id,
    created,
    currency: charge.currency,
    evidence_details: {
      due_by: created + EVIDENCE_DAYS * 24 * 3600,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: charge.paymentIntent,
    reason: "fraudulent",
    status: "needs_response",
  };
  charge.dispute = dispute;
  state.stripe.disputes.set(dispute.id, dispute);
  state.log.info(`stripe dispute ${dispute.id} opened on ${charge.id}: ${dispute.amount} ${dispute.currency}`);
  return { dispute, events: [createEvent(state, "charge.dispute.created", dispute, eventContext(charge))] };
}

/** Closes an open dispute as the bank decided it. */
export function closeDispute(
  state: State,
  id: string,
  status: unknown,
): { dispute: Dispute; events: SentEvent[] } | Refused {
  const dispute = state.stripe.disputes.get(id);
  if (!dispute) return { status: 404, code: "resource_missing", param: "dispute", message: `No such dispute: '${id}'` };
  if (status !== "won" && status !== "lost") {
    return { status: 400, param: "status", message: 'status must be "won" or "lost"' };
  }
  if (dispute.status !== "needs_response") {
    return { status: 400, message: `Dispute ${id} is already closed (${dispute.status}).` };
  }
  dispute.status = status;
  const charge = state.stripe.charges.get(dispute.charge) as StoredCharge;
  state.log.info(`stripe dispute ${id} closed: ${status}`);
  return { dispute, events: [createEvent(state, "charge.dispute.closed", dispute, eventContext(charge))] };
}

/** `GET /v1/disputes/:id`. */
export function disputes(state: State, call: Call): boolean {
  const m = /^\/v1\/disputes\/([^/]+)$/.exec(call.path);
  if (!m || call.method !== "GET") return false;
  const id = decodeURIComponent(m[1] as string);
  const found = state.stripe.disputes.get(id);
  if (found) return send(call.res, 200, found);
  state.log.loud("stripe", call, `no such dispute ${id}`);
  return stripeError(call.res, 404, `No such dispute: '${id}'`, { param: "dispute", code: "resource_missing" });
}
