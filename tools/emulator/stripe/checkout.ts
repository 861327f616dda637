/**
 * Checkout Sessions: the form-encoded create (validated as Stripe does, with Idempotency-Key),
 * retrieve, list and expire; paying or cancelling on the hosted page; expiry at `expires_at`.
 */
import { randomBytes } from "node:crypto";
import { type Call, send } from "../http.ts";
import { EMAIL_RE, type State, unixSeconds } from "../state.ts";
import { acceptForm, metadataProblem, type Problem, stripeError } from "./api.ts";
import { createEvent, type DeliveryResult, dispatch } from "./events.ts";
import { parseStripeForm } from "./form.ts";
import { recordPayment } from "./payments.ts";
import { publicSession, type StoredSession } from "./store.ts";

const KNOWN_CHECKOUT_PARAMS = new Set([
  "mode",
  "success_url",
  "cancel_url",
  "return_url",
  "ui_mode",
  "client_reference_id",
  "customer",
  "customer_email",
  "customer_creation",
  "metadata",
  "payment_intent_data",
  "line_items",
  "expires_at",
  "payment_method_types",
  "locale",
  "allow_promotion_codes",
  "billing_address_collection",
  "currency",
  "submit_type",
  "expand",
  "automatic_tax",
  "invoice_creation",
  "phone_number_collection",
  "custom_text",
  "consent_collection",
  "discounts",
  "subscription_data",
  "shipping_address_collection",
  "tax_id_collection",
  "payment_method_options",
  "after_expiration",
]);

export function checkoutProblems(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!KNOWN_CHECKOUT_PARAMS.has(k)) return { message: `Received unknown parameter: ${k}`, param: k };
  }
  const mode = p.mode;
  if (mode === undefined) return { message: "Missing required param: mode.", param: "mode" };
  if (mode !== "payment" && mode !== "setup" && mode !== "subscription") {
    return { message: "Invalid mode: must be one of payment, setup, or subscription", param: "mode" };
  }
  const uiMode = p.ui_mode ?? "hosted";
  if (uiMode === "hosted" && p.success_url === undefined) {
    return { message: "Missing required param: success_url.", param: "success_url" };
  }
  for (const u of ["success_url", "cancel_url"] as const) {
    if (p[u] !== undefined) {
      try {
        new URL(String(p[u]).replace("{CHECKOUT_SESSION_ID}", "x"));
      } catch {
        return { message: "Not a valid URL", param: u };
      }
    }
  }
  if (mode === "payment") {
    const items = p.line_items;
    if (!Array.isArray(items) || items.length === 0) {
      return { message: "Missing required param: line_items.", param: "line_items" };
    }
    for (const [i, raw] of items.entries()) {
      const item = raw as Record<string, unknown>;
      const at = `line_items[${i}]`;
      if (item.quantity === undefined) return { message: `Missing required param: ${at}[quantity].`, param: at };
      if (!/^\d+$/.test(String(item.quantity)) || Number(item.quantity) < 1) {
        return { message: "Invalid positive integer", param: `${at}[quantity]` };
      }
      const pd = item.price_data as Record<string, unknown> | undefined;
      if (!item.price && !pd) return { message: `Missing required param: ${at}[price].`, param: `${at}[price]` };
      if (pd) {
        if (!pd.currency) {
          return { message: `Missing required param: ${at}[price_data][currency].`, param: `${at}[price_data]` };
        }
        if (!/^[a-z]{3}$/.test(String(pd.currency))) {
          return { message: `Invalid currency: ${pd.currency}`, param: `${at}[price_data][currency]` };
        }
        if (pd.unit_amount === undefined && pd.unit_amount_decimal === undefined) {
          return { message: `Missing required param: ${at}[price_data][unit_amount].`, param: `${at}[price_data]` };
        }
        if (pd.unit_amount !== undefined && !/^\d+$/.test(String(pd.unit_amount))) {
          return { message: "Invalid integer", param: `${at}[price_data][unit_amount]` };
        }
        const prod = pd.product_data as Record<string, unknown> | undefined;
        if (!pd.product && !prod?.name) {
          return {
            message: `Missing required param: ${at}[price_data][product_data][name].`,
            param: `${at}[price_data][product_data]`,
          };
        }
      }
    }
  }
  for (const m of [p.metadata, (p.payment_intent_data as Record<string, unknown> | undefined)?.metadata]) {
    const problem = metadataProblem(m);
    if (problem) return problem;
  }
  if (p.customer_email !== undefined && !EMAIL_RE.test(String(p.customer_email))) {
    return { message: `Invalid email address: ${p.customer_email}`, param: "customer_email" };
  }
  if (p.client_reference_id !== undefined && String(p.client_reference_id).length > 200) {
    return { message: "client_reference_id can be at most 200 characters", param: "client_reference_id" };
  }
  if (p.expires_at !== undefined) {
    const exp = Number(p.expires_at);
    if (!Number.isInteger(exp)) return { message: "Invalid integer", param: "expires_at" };
    if (exp < unixSeconds() + 30 * 60) {
      return {
        message: "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        param: "expires_at",
      };
    }
    if (exp > unixSeconds() + 24 * 3600) {
      return {
        message: "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        param: "expires_at",
      };
    }
  }
  return null;
}

/** `POST /v1/checkout/sessions` (form-encoded, Idempotency-Key honoured). */
function create(state: State, call: Call): true {
  const { res, headers } = call;
  const form = acceptForm(state, call, (params) => {
    const problem = checkoutProblems(params);
    return (
      problem && { ...problem, code: problem.message.startsWith("Missing") ? "parameter_missing" : "parameter_invalid" }
    );
  });
  if (!form) return true;
  const p = form.params;
  const items = (p.line_items as Record<string, unknown>[] | undefined) ?? [];
  let total = 0;
  let currency = String(p.currency ?? "usd");
  let productName = "Checkout";
  for (const item of items) {
    const pd = (item.price_data ?? {}) as Record<string, unknown>;
    total += Number(pd.unit_amount ?? 0) * Number(item.quantity ?? 1);
    if (pd.currency) currency = String(pd.currency);
    const name = (pd.product_data as Record<string, unknown> | undefined)?.name;
    if (typeof name === "string") productName = name;
  }
  const id = `cs_test_${randomBytes(24).toString("hex")}`;
  const session: StoredSession = {
    id,
    object: "checkout.session",
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, status: null },
    billing_address_collection: null,
    cancel_url: (p.cancel_url as string | undefined) ?? null,
    client_reference_id: (p.client_reference_id as string | undefined) ?? null,
    created: unixSeconds(),
    currency,
    customer: null,
    customer_creation: "if_required",
    customer_details: null,
    customer_email: (p.customer_email as string | undefined) ?? null,
    expires_at: p.expires_at !== undefined ? Number(p.expires_at) : unixSeconds() + 24 * 3600,
    livemode: false,
    locale: null,
    metadata: (p.metadata as Record<string, string> | undefined) ?? {},
    mode: p.mode as string,
    payment_intent: null,
    payment_method_types: ["card"],
    payment_status: "unpaid",
    status: "open",
    success_url: (p.success_url as string | undefined) ?? null,
    ui_mode: "hosted",
    url: `${state.base}/checkout/${id}`,
    productName,
    apiVersion: headers["stripe-version"] || "2026-10-28.endive",
    paymentIntentMetadata:
      ((p.payment_intent_data as Record<string, unknown> | undefined)?.metadata as Record<string, string>) ?? {},
  };
  state.stripe.checkoutSessions.set(id, session);
  state.log.info(`stripe checkout ${id}: ${total} ${currency} → ${session.url}`);
  const out = publicSession(session);
  form.remember(200, out);
  return send(res, 200, out);
}

export type Settled =
  | { kind: "missing" }
  | { kind: "closed"; session: StoredSession }
  | { kind: "sent"; session: StoredSession; event: { id: string; type: string }; delivery: DeliveryResult | null };

/**
 * Pays, cancels or expires an open session and sends its event (what the hosted page's buttons do).
 * Paying makes the PaymentIntent and its Charge. `deliver: false` records and signs the event but
 * never sends it: a webhook lost on the way, which only a sweep asking Stripe can make up for.
 */
export async function settleCheckout(
  state: State,
  id: string,
  action: "pay" | "cancel" | "expire",
  opts: { deliver?: boolean } = {},
): Promise<Settled> {
  const s = state.stripe.checkoutSessions.get(id);
  if (!s) return { kind: "missing" };
  if (s.status !== "open") return { kind: "closed", session: s };
  if (action === "pay") {
    s.status = "complete";
    s.payment_status = "paid";
    s.payment_intent = recordPayment(state, s).id;
    s.customer_details = { email: s.customer_email, name: null, phone: null, address: null, tax_exempt: "none" };
  } else {
    s.status = "expired";
    s.url = null;
  }
  const type = action === "pay" ? "checkout.session.completed" : "checkout.session.expired";
  const deliver = opts.deliver ?? true;
  const ctx = { sessionId: s.id, paymentIntent: s.payment_intent, apiVersion: s.apiVersion, request: null };
  const ev = createEvent(state, type, publicSession(s), ctx, { withheld: !deliver });
  const [delivery] = deliver ? await dispatch(state, [ev]) : [];
  return { kind: "sent", session: s, event: { id: ev.id, type }, delivery: delivery ?? null };
}

/** A session past its `expires_at` expires on its own, like Stripe's. */
export function expireOverdueSessions(state: State) {
  state.every(5000, () => {
    for (const s of state.stripe.checkoutSessions.values()) {
      if (s.status === "open" && s.expires_at > 0 && s.expires_at <= unixSeconds()) {
        void settleCheckout(state, s.id, "expire");
      }
    }
  });
}

/** `/v1/checkout/sessions[/:id[/expire]]`; false for any other path. */
export async function checkoutSessions(state: State, call: Call): Promise<boolean> {
  const { path, method, res } = call;
  if (path === "/v1/checkout/sessions" && method === "POST") return create(state, call);
  if (path === "/v1/checkout/sessions" && method === "GET") {
    const data = [...state.stripe.checkoutSessions.values()].reverse().map(publicSession);
    return send(res, 200, { object: "list", data, has_more: false, url: "/v1/checkout/sessions" });
  }
  const one = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
  if (!one) return false;
  const id = decodeURIComponent(one[1] as string);
  const s = state.stripe.checkoutSessions.get(id);
  if (!s) {
    state.log.loud("stripe", call, `no such checkout.session ${id}`);
    return stripeError(res, 404, `No such checkout.session: '${id}'`, { param: "session", code: "resource_missing" });
  }
  if (!one[2] && method === "GET") {
    // `expand[]=payment_intent` (the SDK's `expand: ["payment_intent"]`) inlines the PaymentIntent
    const asked = parseStripeForm(call.url.search.slice(1)).expand;
    const expand = Array.isArray(asked) ? asked : [asked];
    const pi =
      s.payment_intent && expand.includes("payment_intent") && state.stripe.paymentIntents.get(s.payment_intent);
    return send(res, 200, pi ? { ...publicSession(s), payment_intent: pi } : publicSession(s));
  }
  if (one[2] && method === "POST") {
    if (s.status !== "open") {
      return stripeError(res, 400, `Only Checkout Sessions with a status in ["open"] can be expired.`);
    }
    const out = await settleCheckout(state, id, "expire");
    return send(res, 200, out.kind === "missing" ? {} : publicSession(out.session));
  }
  return false;
}
