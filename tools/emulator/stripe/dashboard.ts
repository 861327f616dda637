/**
 * What happens to a payment outside the API: a refund made in Stripe's dashboard, a dispute the
 * cardholder's bank opens and later decides. The control routes (`/__control/stripe/*`) and the
 * hosted page's buttons both call these, so the two always behave alike. Connect too: an
 * account's onboarding outcome or a later change (payouts disabled), a transfer reversed from the
 * dashboard. Each waits for the first
 * delivery of its events, so when it answers, the API has had its chance to see them.
 */
import type { State } from "../state.ts";
import type { Refused } from "./api.ts";
import { accountView, ONBOARDED, updateAccount } from "./connect.ts";
import { closeDispute, openDispute } from "./disputes.ts";
import { dispatch, sentSummary } from "./events.ts";
import { chargeOfIntent, chargeView } from "./payments.ts";
import { refundCharge } from "./refunds.ts";
import type { AccountState, CapabilityStatus, Dispute, Refund, SentEvent, StoredCharge } from "./store.ts";
import { reverseTransfer, transferView } from "./transfers.ts";

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

const noAccount = (id: string): Refused => ({
  status: 404,
  code: "resource_missing",
  param: "account",
  message: `No such account: '${id}'`,
});

const CAPABILITY: CapabilityStatus[] = ["active", "inactive", "pending"];

/** A change to an account's state: `{ charges_enabled?, payouts_enabled?, details_submitted?, transfers? }`. */
function patchOf(body: Record<string, unknown>): Partial<AccountState> | Refused {
  const patch: Partial<AccountState> = {};
  for (const k of ["charges_enabled", "payouts_enabled", "details_submitted"] as const) {
    if (body[k] === undefined) continue;
    if (typeof body[k] !== "boolean") return { status: 400, param: k, message: `${k} must be a boolean` };
    patch[k] = body[k];
  }
  if (body.transfers !== undefined) {
    if (!CAPABILITY.includes(body.transfers as CapabilityStatus)) {
      return { status: 400, param: "transfers", message: "transfers must be active, inactive or pending" };
    }
    patch.transfers = body.transfers as CapabilityStatus;
  }
  if (Object.keys(patch).length === 0) {
    return {
      status: 400,
      message: "Name what changes: charges_enabled, payouts_enabled, details_submitted or transfers",
    };
  }
  return patch;
}

/**
 * An account changes outside the API (Stripe's review, the tutor's own dashboard, onboarding):
 * sends `account.updated` when anything changed. `body` is a patch, or `{ outcome: "complete" |
 * "pending" }` for what the hosted onboarding page's two buttons do.
 */
export async function dashboardUpdateAccount(
  state: State,
  id: string,
  body: Record<string, unknown>,
): Promise<Done<{ account: ReturnType<typeof accountView> }> | Refused> {
  const a = state.stripe.accounts.get(id);
  if (!a) return noAccount(id);
  let patch: Partial<AccountState> | Refused;
  if (body.outcome !== undefined) {
    const outcome = ONBOARDED[String(body.outcome) as keyof typeof ONBOARDED];
    patch = outcome ?? { status: 400, param: "outcome", message: "outcome must be complete or pending" };
  } else patch = patchOf(body);
  if ("status" in patch) return patch;
  const ev = updateAccount(state, a, patch);
  return delivered(state, { account: accountView(a) }, ev ? [ev] : []);
}

/** A reversal made in Stripe's dashboard (no Idempotency-Key): `amount` defaults to all that is left. */
export async function dashboardReverseTransfer(
  state: State,
  id: string,
  amount?: unknown,
): Promise<Done<{ reversal: unknown; transfer: ReturnType<typeof transferView> }> | Refused> {
  if (amount !== undefined && (typeof amount !== "number" || !Number.isInteger(amount) || amount < 1)) {
    return { status: 400, param: "amount", message: "amount must be a positive integer (cents)" };
  }
  const t = state.stripe.transfers.find((x) => x.id === id);
  if (!t) return { status: 404, code: "resource_missing", param: "id", message: `No such transfer: '${id}'` };
  const out = reverseTransfer(state, t, { amount }, null);
  if ("status" in out) return out;
  return delivered(state, { reversal: out.reversal, transfer: transferView(t) }, out.events);
}

/** `POST /__control/stripe/accounts/:id/refuse-transfers`: every later transfer to it is refused. */
export function refuseTransfers(
  state: State,
  id: string,
  body: Record<string, unknown>,
): Done<{ account: ReturnType<typeof accountView>; refuseTransfers: unknown }> | Refused {
  const a = state.stripe.accounts.get(id);
  if (!a) return noAccount(id);
  const status = body.status ?? 400;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599) {
    return { status: 400, param: "status", message: "status must be an HTTP error status (400-599)" };
  }
  a.refuseTransfers = {
    status,
    code: typeof body.code === "string" ? body.code : "account_invalid",
    message:
      typeof body.message === "string"
        ? body.message
        : `Transfers to ${a.id} are not possible: the account has been rejected.`,
  };
  return { body: { account: accountView(a), refuseTransfers: a.refuseTransfers }, sent: [] };
}
