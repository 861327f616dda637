/**
 * Platform Transfers to connected accounts: `POST /v1/transfers` (Idempotency-Key honoured; refused
 * like Stripe when the destination is unknown or cannot receive transfers), `GET /v1/transfers`
 * (`transfer_group`, `destination`, `limit`; newest first), `GET /v1/transfers/:id`, and reversals
 * (`POST|GET /v1/transfers/:id/reversals`). A transfer sends `transfer.created`, a reversal
 * `transfer.reversed` (platform events: no `account`, signed with the platform secret).
 */
import { type Call, send } from "../http.ts";
import { rid, type State, unixSeconds } from "../state.ts";
import { acceptForm, metadataProblem, type Problem, type Refused, stripeError, stripeErrorBody } from "./api.ts";
import { createEvent, dispatch, type EventContext } from "./events.ts";
import { money } from "./payments.ts";
import type { SentEvent, StoredTransfer, TransferReversal } from "./store.ts";

const DEFAULT_API_VERSION = "2026-10-28.endive";
const KNOWN_PARAMS = new Set([
  "amount",
  "currency",
  "destination",
  "description",
  "metadata",
  "source_transaction",
  "source_type",
  "transfer_group",
  "expand",
]);

export const remaining = (t: StoredTransfer) => t.amount - t.reversals.reduce((n, r) => n + r.amount, 0);

/** The Transfer as Stripe's API returns it. */
export function transferView(t: StoredTransfer) {
  const reversed = t.amount - remaining(t);
  return {
    id: t.id,
    object: "transfer" as const,
    amount: t.amount,
    amount_reversed: reversed,
    balance_transaction: t.balanceTransaction,
    created: t.created,
    currency: t.currency,
    description: t.description,
    destination: t.destination,
    destination_payment: t.destinationPayment,
    livemode: false,
    metadata: t.metadata,
    reversals: {
      object: "list" as const,
      data: [...t.reversals].reverse(),
      has_more: false,
      total_count: t.reversals.length,
      url: `/v1/transfers/${t.id}/reversals`,
    },
    reversed: reversed === t.amount,
    source_transaction: null,
    source_type: "card",
    transfer_group: t.transferGroup,
  };
}

const positiveInt = (v: unknown, param: string): Problem | null =>
  /^\d+$/.test(String(v)) && Number(v) >= 1
    ? null
    : { message: `Invalid positive integer: ${String(v)}`, param, code: "parameter_invalid_integer" };

function paramProblem(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!KNOWN_PARAMS.has(k))
      return { message: `Received unknown parameter: ${k}`, param: k, code: "parameter_unknown" };
  }
  for (const k of ["amount", "currency", "destination"] as const) {
    if (p[k] === undefined) return { message: `Missing required param: ${k}.`, param: k, code: "parameter_missing" };
  }
  const amount = positiveInt(p.amount, "amount");
  if (amount) return amount;
  if (!/^[a-z]{3}$/.test(String(p.currency))) {
    return { message: `Invalid currency: ${String(p.currency)}`, param: "currency", code: "parameter_invalid" };
  }
  if (p.transfer_group !== undefined && typeof p.transfer_group !== "string") {
    return { message: "Invalid string", param: "transfer_group" };
  }
  return metadataProblem(p.metadata);
}

/** Why Stripe would not move money to `destination`, or null. */
function destinationRefusal(state: State, destination: string): Refused | null {
  const a = state.stripe.accounts.get(destination);
  if (!a)
    return {
      status: 400,
      code: "resource_missing",
      param: "destination",
      message: `No such destination: '${destination}'`,
    };
  if (a.refuseTransfers) return { ...a.refuseTransfers, param: "destination" };
  if (a.transfers !== "active" || !a.transfersRequested) {
    return {
      status: 400,
      code: "insufficient_capabilities_for_transfer",
      param: "destination",
      message:
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
    };
  }
  return null;
}

function create(state: State, call: Call): true {
  const { res, headers } = call;
  const form = acceptForm(state, call, paramProblem);
  if (!form) return true;
  const p = form.params;
  const stripeAccount = headers["stripe-account"] ?? null;
  if (stripeAccount) {
    // a platform transfer names its destination in the body; this header would move the connected account's money
    state.log.loud("stripe", call, `Stripe-Account: ${stripeAccount} on a transfer (a platform transfer needs none)`);
  }
  const refusal = destinationRefusal(state, String(p.destination));
  if (refusal) {
    // refused after the request started executing: kept for the Idempotency-Key, like Stripe
    state.log.warn(`stripe refused a transfer to ${String(p.destination)}: ${refusal.message}`);
    const body = stripeErrorBody(refusal.message, refusal);
    form.remember(refusal.status, body);
    return send(res, refusal.status, body);
  }
  const t: StoredTransfer = {
    id: rid("tr"),
    amount: Number(p.amount),
    currency: String(p.currency),
    created: unixSeconds(),
    description: (p.description as string | undefined) ?? null,
    destination: String(p.destination),
    destinationPayment: rid("py"),
    balanceTransaction: rid("txn"),
    metadata: (p.metadata as Record<string, string> | undefined) ?? {},
    transferGroup: (p.transfer_group as string | undefined) ?? null,
    reversals: [],
    apiVersion: headers["stripe-version"] || DEFAULT_API_VERSION,
    stripeAccountHeader: stripeAccount,
  };
  state.stripe.transfers.push(t);
  state.log.info(`stripe transfer ${t.id}: ${money(t.amount, t.currency)} → ${t.destination}`);
  const out = transferView(t);
  form.remember(200, out);
  send(res, 200, out);
  const request = {
    id: String(res.getHeader("request-id") ?? rid("req")),
    idempotency_key: headers["idempotency-key"] ?? null,
  };
  void dispatch(state, [createEvent(state, "transfer.created", out, ctxOf(t, request))]);
  return true;
}

const ctxOf = (t: StoredTransfer, request: EventContext["request"]): EventContext => ({
  sessionId: null,
  paymentIntent: null,
  apiVersion: t.apiVersion,
  request,
});

/**
 * Reverses `amount` (default: all that is left) of a transfer and builds `transfer.reversed`
 * (not yet delivered: hand it to `dispatch`). The API route and the dashboard both call this.
 */
export function reverseTransfer(
  state: State,
  t: StoredTransfer,
  input: { amount?: number; metadata?: Record<string, string> },
  request: EventContext["request"],
): { reversal: TransferReversal; events: SentEvent[] } | Refused {
  const left = remaining(t);
  if (left === 0) {
    return {
      status: 400,
      code: "transfer_already_reversed",
      message: `Transfer ${t.id} has already been fully reversed.`,
    };
  }
  const amount = input.amount ?? left;
  if (amount > left) {
    return {
      status: 400,
      code: "amount_too_large",
      param: "amount",
      message: `Reversal amount (${money(amount, t.currency)}) is greater than the amount of the transfer that has not been reversed (${money(left, t.currency)})`,
    };
  }
  const reversal: TransferReversal = {
    id: rid("trr"),
    object: "transfer_reversal",
    amount,
    balance_transaction: rid("txn"),
    created: unixSeconds(),
    currency: t.currency,
    destination_payment_refund: rid("pyr"),
    metadata: input.metadata ?? {},
    source_refund: null,
    transfer: t.id,
  };
  t.reversals.push(reversal);
  state.log.info(`stripe transfer ${t.id}: reversed ${money(amount, t.currency)}`);
  return { reversal, events: [createEvent(state, "transfer.reversed", transferView(t), ctxOf(t, request))] };
}

function reversalProblem(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!["amount", "description", "metadata", "refund_application_fee", "expand"].includes(k)) {
      return { message: `Received unknown parameter: ${k}`, param: k, code: "parameter_unknown" };
    }
  }
  return (p.amount !== undefined && positiveInt(p.amount, "amount")) || metadataProblem(p.metadata);
}

function createReversal(state: State, call: Call, t: StoredTransfer): true {
  const form = acceptForm(state, call, reversalProblem);
  if (!form) return true;
  const p = form.params;
  const request = {
    id: String(call.res.getHeader("request-id") ?? rid("req")),
    idempotency_key: call.headers["idempotency-key"] ?? null,
  };
  const input = {
    amount: p.amount === undefined ? undefined : Number(p.amount),
    metadata: p.metadata as Record<string, string> | undefined,
  };
  const out = reverseTransfer(state, t, input, request);
  if ("status" in out) {
    state.log.warn(`stripe refused a reversal of ${t.id}: ${out.message}`);
    const body = stripeErrorBody(out.message, out);
    form.remember(out.status, body);
    return send(call.res, out.status, body);
  }
  form.remember(200, out.reversal);
  send(call.res, 200, out.reversal);
  void dispatch(state, out.events);
  return true;
}

function list(state: State, call: Call): true {
  const q = call.url.searchParams;
  const group = q.get("transfer_group");
  const destination = q.get("destination");
  const limitRaw = q.get("limit") ?? "10";
  const limit = Number(limitRaw);
  if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > 100) {
    state.log.loud("stripe", call, `limit ${limitRaw}`);
    return stripeError(call.res, 400, "This value must be greater than or equal to 1 and less than or equal to 100.", {
      param: "limit",
      code: "parameter_invalid_integer",
    });
  }
  const all = [...state.stripe.transfers]
    .reverse()
    .filter((t) => (!group || t.transferGroup === group) && (!destination || t.destination === destination));
  return send(call.res, 200, {
    object: "list",
    data: all.slice(0, limit).map(transferView),
    has_more: all.length > limit,
    url: "/v1/transfers",
  });
}

/** `/v1/transfers[/:id[/reversals]]`; false for any other path. */
export function transfers(state: State, call: Call): boolean {
  const { path, method, res } = call;
  if (path === "/v1/transfers" && method === "POST") return create(state, call);
  if (path === "/v1/transfers" && method === "GET") return list(state, call);
  const one = /^\/v1\/transfers\/([^/]+)(\/reversals)?$/.exec(path);
  if (!one) return false;
  const id = decodeURIComponent(one[1] as string);
  const t = state.stripe.transfers.find((x) => x.id === id);
  if (!t) {
    state.log.loud("stripe", call, `no such transfer ${id}`);
    return stripeError(res, 404, `No such transfer: '${id}'`, { param: "id", code: "resource_missing" });
  }
  if (!one[2] && method === "GET") return send(res, 200, transferView(t));
  if (one[2] && method === "POST") return createReversal(state, call, t);
  if (one[2] && method === "GET") return send(res, 200, transferView(t).reversals);
  return false;
}
