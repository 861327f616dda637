/**
 * Checkout Sessions: the form-encoded create (validated as Stripe does, with Idempotency-Key),
 * retrieve, list and expire; paying or cancelling on the hosted page; expiry at `expires_at`.
 */
import { randomBytes } from "node:crypto";
import { unixSeconds } from "../../shared/stripe-signature.ts";
import { type Call, send } from "../http.ts";
import { EMAIL_RE, type State } from "../state.ts";
import { idempotent, refuseNonForm, stripeError } from "./api.ts";
import { sendStripeEvent } from "./events.ts";
import { parseStripeForm } from "./form.ts";
import { publicSession, type StoredSession } from "./store.ts";

export interface Problem {
  message: string;
  param?: string;
}

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

/** Stripe's limits on a `metadata` hash (50 keys, keys ≤ 40 and values ≤ 500 characters). */
export function metadataProblem(m: unknown, param = "metadata"): Problem | null {
  if (m === undefined) return null;
  if (typeof m !== "object" || m === null || Array.isArray(m)) return { message: "Invalid hash", param };
  const entries = Object.entries(m);
  if (entries.length > 50) return { message: "Too many metadata keys (max 50)", param };
  for (const [k, v] of entries) {
    if (k.length > 40) return { message: "Metadata keys can be at most 40 characters", param: `${param}[${k}]` };
    if (typeof v !== "string" || v.length > 500) {
      return { message: "Metadata values can be at most 500 characters", param: `${param}[${k}]` };
    }
  }
  return null;
}

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
  if (refuseNonForm(state, call)) return true;
  const once = idempotent(state, call);
  if (once.answered) return true;
  const p = parseStripeForm(call.body);
  const problem = checkoutProblems(p);
  if (problem) {
    state.log.loud("stripe", call, problem.message);
    return stripeError(res, 400, problem.message, {
      param: problem.param,
      code: problem.message.startsWith("Missing") ? "parameter_missing" : "parameter_invalid",
    });
  }
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
  };
  state.stripe.checkoutSessions.set(id, session);
  state.log.info(`stripe checkout ${id}: ${total} ${currency} → ${session.url}`);
  const out = publicSession(session);
  once.remember(200, out);
  return send(res, 200, out);
}

export type Settled =
  | { kind: "missing" }
  | { kind: "closed"; session: StoredSession }
  | ({ kind: "sent"; session: StoredSession } & Awaited<ReturnType<typeof sendStripeEvent>>);

/** Pays, cancels or expires an open session and sends its event (what the hosted page's buttons do). */
export async function settleCheckout(state: State, id: string, action: "pay" | "cancel" | "expire"): Promise<Settled> {
  const s = state.stripe.checkoutSessions.get(id);
  if (!s) return { kind: "missing" };
  if (s.status !== "open") return { kind: "closed", session: s };
  if (action === "pay") {
    s.status = "complete";
    s.payment_status = "paid";
    s.payment_intent = `pi_${randomBytes(12).toString("hex")}`;
    s.customer_details = { email: s.customer_email, name: null, phone: null, address: null, tax_exempt: "none" };
    return { kind: "sent", session: s, ...(await sendStripeEvent(state, "checkout.session.completed", s)) };
  }
  s.status = "expired";
  s.url = null;
  return { kind: "sent", session: s, ...(await sendStripeEvent(state, "checkout.session.expired", s)) };
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
  if (!one[2] && method === "GET") return send(res, 200, publicSession(s));
  if (one[2] && method === "POST") {
    if (s.status !== "open") {
      return stripeError(res, 400, `Only Checkout Sessions with a status in ["open"] can be expired.`);
    }
    const out = await settleCheckout(state, id, "expire");
    return send(res, 200, out.kind === "missing" ? {} : publicSession(out.session));
  }
  return false;
}
