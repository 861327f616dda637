/**
 * Provider emulator: Stripe, Resend, Deepgram, OpenAI and Agora App Builder at their HTTP
 * boundary, speaking the wire formats the project's adapters and the official SDKs use. One
 * implementation serves `npm run dev:offline`, the e2e suite and (as `test/fakes/provider-server.ts`)
 * the Workers unit tests.
 *
 * - Stripe: Checkout Sessions (form-encoded create with Idempotency-Key, retrieve, list, expire) and
 *   a hosted page `GET /checkout/:id` whose Pay / Cancel buttons send signed
 *   `checkout.session.completed` / `checkout.session.expired` events to `${apiUrl}/v1/webhooks/stripe`.
 * - Resend: `POST /emails` (Idempotency-Key), `GET /emails/:id`; every mail lands in `GET /inbox`
 *   (HTML) and `GET /inbox.json`.
 * - Deepgram: `POST /v1/listen` answers `{ request_id }` and later POSTs a recorded nova-3 result to
 *   the `callback` URL (without `callback`, the result comes back at once); non-audio is refused.
 * - OpenAI: `POST /v1/chat/completions` and `POST /v1/responses` answer with JSON conforming to the
 *   requested `json_schema` (checked like strict mode does).
 * - Agora App Builder: `POST /v1/channel`; join links `GET /meet/:passphrase` land on a room page.
 *
 * Every malformed call is answered like the real provider would and reported loudly on stderr.
 * Tests steer it through `/__control/*`: recorded requests, injected failures, sent events.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  CORRUPT_AUDIO,
  durationOf,
  listenQueryProblems,
  listenResult,
  newRequestId,
  sniffAudio as sniff,
} from "./deepgram.ts";
import { generate, type Hints, type Schema, strictSchemaProblems } from "./json-schema.ts";
import {
  type CheckoutView,
  checkoutListPage,
  checkoutPage,
  checkoutResultPage,
  inboxPage,
  indexPage,
  type Mail,
  meetPage,
} from "./pages.ts";
import { parseStripeForm } from "./stripe-form.ts";

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  at: number;
}

interface Failure {
  path: string;
  match?: string;
  status: number;
  body?: unknown;
  times: number;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Origin at which browsers and the API reach the emulator (default http://<host>:<port>). */
  publicUrl?: string;
  /** The tutorloop API origin: Stripe webhooks go to `${apiUrl}/v1/webhooks/stripe`. */
  apiUrl?: string | null;
  /** Signs Stripe events (`Stripe-Signature`); must equal the API's STRIPE_WEBHOOK_SECRET. */
  stripeWebhookSecret?: string | null;
  /** POST Deepgram results to the `callback` URL (off in the unit tests, which post them). */
  deepgramCallbacks?: boolean;
  deepgramCallbackDelayMs?: number;
  /** Refuse audio whose bytes are no known container, like Deepgram (off in the unit tests). */
  sniffAudio?: boolean;
  /** `requests`: one line per call; `errors`: malformed calls and failed deliveries only. */
  log?: "requests" | "errors" | "quiet";
}

export interface Emulator {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Lesson-report fields, so generated structured outputs read like a real report. */
export const REPORT_HINTS: Hints = {
  summary: "We practised solving quadratic equations by factoring and with the formula.",
  topicsCovered: ["quadratic equations", "factoring"],
  nextSteps: ["practise completing the square"],
};

const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
const nowSec = () => Math.floor(Date.now() / 1000);
const RECORD_LIMIT = 1024 * 1024;
const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

interface StripeSession extends Record<string, unknown> {
  id: string;
  status: "open" | "complete" | "expired";
  payment_status: "unpaid" | "paid" | "no_payment_required";
  amount_total: number;
  currency: string;
  customer_email: string | null;
  success_url: string | null;
  cancel_url: string | null;
  expires_at: number;
  url: string | null;
}

interface SentEvent {
  id: string;
  type: string;
  sessionId: string;
  payload: string;
  signature: string;
  deliveries: ({ status: number; body: string; at: number } | { error: string; at: number })[];
}

interface Delivery {
  kind: "stripe" | "deepgram";
  id: string;
  target: string;
  status?: number;
  error?: string;
  /** what was sent (Deepgram callbacks), so tests can replay it */
  body?: string;
  at: number;
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

export function signStripePayload(payload: string, secret: string, t = nowSec()): string {
  const v1 = createHmac("sha256", secret).update(`${t}.${payload}`).digest("hex");
  return `t=${t},v1=${v1}`;
}

export function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? "127.0.0.1";
  const logLevel = opts.log ?? "requests";
  let apiUrl = opts.apiUrl ?? null;
  let webhookSecret = opts.stripeWebhookSecret ?? null;
  const deepgramCallbacks = opts.deepgramCallbacks ?? true;
  const callbackDelay = opts.deepgramCallbackDelayMs ?? 300;
  const sniffAudio = opts.sniffAudio ?? true;
  let base = opts.publicUrl ?? "";

  const recorded: Recorded[] = [];
  let failures: Failure[] = [];
  const idempotency = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  const checkoutSessions = new Map<string, StripeSession & { productName: string; apiVersion: string }>();
  const events: SentEvent[] = [];
  const deliveries: Delivery[] = [];
  const mails: Mail[] = [];
  const rooms = new Map<string, { channel: string; title: string; role: string }>();
  const pending = new Set<NodeJS.Timeout>();

  const color = (code: number, s: string) => (process.stderr.isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);
  const info = (msg: string) => {
    if (logLevel === "requests") console.log(`[emulator] ${msg}`);
  };
  const loud = (provider: string, req: IncomingMessage, reason: string) => {
    if (logLevel === "quiet") return;
    const u = req.url ?? "";
    const shown = u.length > 100 ? `${u.slice(0, 100)}…` : u;
    console.error(color(31, `[emulator] ✗ MALFORMED ${provider} call ${req.method} ${shown}: ${reason}`));
  };
  const warn = (msg: string) => {
    if (logLevel !== "quiet") console.error(color(33, `[emulator] ! ${msg}`));
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const html = (res: ServerResponse, status: number, page: string) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
    res.end(page);
  };
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      pending.delete(t);
      fn();
    }, ms);
    pending.add(t);
  };

  // ---------------------------------------------------------------- Stripe
  const stripeError = (
    res: ServerResponse,
    status: number,
    message: string,
    extra: { param?: string; code?: string; type?: string } = {},
  ) =>
    send(res, status, {
      error: {
        ...(extra.code ? { code: extra.code } : {}),
        doc_url: extra.code ? `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, "-")}` : undefined,
        message,
        ...(extra.param ? { param: extra.param } : {}),
        request_log_url: `https://dashboard.stripe.com/test/logs/${rid("req")}`,
        type: extra.type ?? "invalid_request_error",
      },
    });

  const stripeAuthProblem = (headers: Record<string, string>): string | null => {
    const auth = headers.authorization ?? "";
    if (!auth.startsWith("Bearer ")) return "You did not provide an API key.";
    const key = auth.slice(7);
    if (key.startsWith("sk_live_") || key.startsWith("rk_live_")) return "A live-mode key was sent to the emulator.";
    if (!key.startsWith("sk_") && !key.startsWith("rk_")) return `Invalid API Key provided: ${key.slice(0, 8)}***`;
    return null;
  };

  const checkoutProblems = (p: Record<string, unknown>): { message: string; param?: string } | null => {
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
      if (m === undefined) continue;
      if (typeof m !== "object" || m === null || Array.isArray(m))
        return { message: "Invalid hash", param: "metadata" };
      const entries = Object.entries(m);
      if (entries.length > 50) return { message: "Too many metadata keys (max 50)", param: "metadata" };
      for (const [k, v] of entries) {
        if (k.length > 40) return { message: "Metadata keys can be at most 40 characters", param: `metadata[${k}]` };
        if (typeof v !== "string" || v.length > 500) {
          return { message: "Metadata values can be at most 500 characters", param: `metadata[${k}]` };
        }
      }
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
      if (exp < nowSec() + 30 * 60) {
        return {
          message: "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
          param: "expires_at",
        };
      }
      if (exp > nowSec() + 24 * 3600) {
        return {
          message: "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
          param: "expires_at",
        };
      }
    }
    return null;
  };

  const publicSession = (s: StripeSession & { productName: string; apiVersion: string }): StripeSession => {
    const { productName: _p, apiVersion: _a, ...rest } = s;
    return rest as StripeSession;
  };

  const viewOf = (s: StripeSession & { productName: string }): CheckoutView => ({
    id: s.id,
    status: s.status,
    payment_status: s.payment_status,
    amount_total: s.amount_total,
    currency: s.currency,
    customer_email: s.customer_email,
    productName: s.productName,
    success_url: s.success_url,
    cancel_url: s.cancel_url,
  });

  const deliverStripe = async (ev: SentEvent): Promise<{ status: number; body: string } | { error: string }> => {
    if (!apiUrl || !webhookSecret) {
      const error = `cannot deliver ${ev.type}: ${!apiUrl ? "the API URL" : "the Stripe webhook secret"} is not configured (start the emulator with API_URL and STRIPE_WEBHOOK_SECRET)`;
      warn(error);
      ev.deliveries.push({ error, at: Date.now() });
      return { error };
    }
    const target = `${apiUrl.replace(/\/+$/, "")}/v1/webhooks/stripe`;
    const signature = signStripePayload(ev.payload, webhookSecret);
    ev.signature = signature;
    try {
      const r = await fetch(target, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": signature,
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
        body: ev.payload,
      });
      const body = await r.text();
      ev.deliveries.push({ status: r.status, body, at: Date.now() });
      deliveries.push({ kind: "stripe", id: ev.id, target, status: r.status, at: Date.now() });
      if (r.ok) info(`stripe ${ev.type} ${ev.id} → ${r.status}`);
      else warn(`stripe webhook ${ev.type} ${ev.id} → HTTP ${r.status}: ${body.slice(0, 300)}`);
      return { status: r.status, body };
    } catch (err) {
      const error = `${target}: ${(err as Error).message}`;
      ev.deliveries.push({ error, at: Date.now() });
      deliveries.push({ kind: "stripe", id: ev.id, target, error, at: Date.now() });
      warn(`stripe webhook ${ev.type} ${ev.id} not delivered: ${error}`);
      return { error };
    }
  };

  /** Sends the event now; like Stripe, retries (1 s, 2 s, 4 s) a delivery that did not get a 2xx. */
  const sendStripeEvent = async (type: string, session: StripeSession & { apiVersion: string }) => {
    const id = `evt_${randomBytes(12).toString("hex")}`;
    const event = {
      id,
      object: "event",
      api_version: session.apiVersion,
      created: nowSec(),
      data: { object: publicSession(session as StripeSession & { productName: string; apiVersion: string }) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    // Stripe sends pretty-printed JSON
    const ev: SentEvent = {
      id,
      type,
      sessionId: session.id,
      signature: "",
      payload: JSON.stringify(event, null, 2),
      deliveries: [],
    };
    events.push(ev);
    const first = await deliverStripe(ev);
    if (!("status" in first) || first.status >= 300) {
      let attempt = 0;
      const retry = () => {
        attempt += 1;
        void deliverStripe(ev).then((r) => {
          if ((!("status" in r) || r.status >= 300) && attempt < 3) later(1000 * 2 ** attempt, retry);
        });
      };
      later(1000, retry);
    }
    return { event: { id: ev.id, type }, delivery: first };
  };

  const settleCheckout = async (id: string, action: "pay" | "cancel" | "expire") => {
    const s = checkoutSessions.get(id);
    if (!s) return { kind: "missing" as const };
    if (s.status !== "open") return { kind: "closed" as const, session: s };
    if (action === "pay") {
      s.status = "complete";
      s.payment_status = "paid";
      s.payment_intent = `pi_${randomBytes(12).toString("hex")}`;
      s.customer_details = { email: s.customer_email, name: null, phone: null, address: null, tax_exempt: "none" };
      return { kind: "sent" as const, session: s, ...(await sendStripeEvent("checkout.session.completed", s)) };
    }
    s.status = "expired";
    s.url = null;
    return { kind: "sent" as const, session: s, ...(await sendStripeEvent("checkout.session.expired", s)) };
  };

  // a session past its expires_at expires on its own, like Stripe's
  const expiry = setInterval(() => {
    for (const s of checkoutSessions.values()) {
      if (s.status === "open" && s.expires_at > 0 && s.expires_at <= nowSec()) void settleCheckout(s.id, "expire");
    }
  }, 5000);
  expiry.unref();

  // ---------------------------------------------------------------- Deepgram callbacks
  const deliverCallback = async (target: string, requestId: string, body: unknown, attempt = 1): Promise<void> => {
    try {
      const sent = JSON.stringify(body);
      const r = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", "dg-token": requestId, "user-agent": "Deepgram/1.0" },
        body: sent,
      });
      const text = await r.text();
      deliveries.push({ kind: "deepgram", id: requestId, target, status: r.status, body: sent, at: Date.now() });
      if (r.ok) {
        info(`deepgram callback ${requestId} → ${r.status} ${text.slice(0, 120)}`);
        return;
      }
      warn(`deepgram callback ${requestId} → HTTP ${r.status}: ${text.slice(0, 300)}`);
      if (r.status < 500 && r.status !== 429) return;
    } catch (err) {
      deliveries.push({ kind: "deepgram", id: requestId, target, error: (err as Error).message, at: Date.now() });
      warn(`deepgram callback ${requestId} not delivered to ${target}: ${(err as Error).message}`);
    }
    if (attempt < 4) later(1000 * 2 ** (attempt - 1), () => void deliverCallback(target, requestId, body, attempt + 1));
  };

  // ---------------------------------------------------------------- OpenAI
  const openaiError = (
    res: ServerResponse,
    status: number,
    message: string,
    param: string | null = null,
    code: string | null = null,
  ) => send(res, status, { error: { message, type: "invalid_request_error", param, code } });

  type Format = { type?: string; name?: string; strict?: boolean; schema?: unknown; json_schema?: Format };

  /** Checks a structured-output format; returns the content generator or an error message. */
  const formatOf = (
    f: Format | undefined,
    where: string,
    text: string,
  ): { ok: true; content: () => string } | { ok: false; message: string; param: string } => {
    if (!f || f.type === undefined || f.type === "text") {
      return { ok: true, content: () => "This is an emulated answer: the provider emulator does not run a model." };
    }
    if (f.type === "json_object") {
      if (!/json/i.test(text)) {
        return {
          ok: false,
          message: `'messages' must contain the word 'json' in some form, to use '${where}' of type 'json_object'.`,
          param: "messages",
        };
      }
      return { ok: true, content: () => JSON.stringify({ answer: "emulated" }) };
    }
    if (f.type !== "json_schema") {
      return {
        ok: false,
        message: `Invalid value: '${f.type}'. Supported values are: 'json_object', 'json_schema', and 'text'.`,
        param: `${where}.type`,
      };
    }
    const spec = where === "response_format" ? f.json_schema : f;
    if (!spec)
      return {
        ok: false,
        message: `Missing required parameter: '${where}.json_schema'.`,
        param: `${where}.json_schema`,
      };
    if (typeof spec.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
      return {
        ok: false,
        message: `Invalid '${where}.name': string must match pattern '^[a-zA-Z0-9_-]+$' (max 64).`,
        param: `${where}.name`,
      };
    }
    if (typeof spec.schema !== "object" || spec.schema === null) {
      return { ok: false, message: `Missing required parameter: '${where}.schema'.`, param: `${where}.schema` };
    }
    if (spec.strict) {
      const problems = strictSchemaProblems(spec.schema);
      if (problems.length > 0) {
        return {
          ok: false,
          message: `Invalid schema for response_format '${spec.name}': In context=(), ${problems.join("; ")}.`,
          param: where,
        };
      }
    }
    const schema = spec.schema as Schema;
    return { ok: true, content: () => JSON.stringify(generate(schema, REPORT_HINTS)) };
  };

  const textOfMessages = (messages: unknown[]): string =>
    messages
      .map((m) => {
        const c = (m as { content?: unknown }).content;
        return typeof c === "string" ? c : JSON.stringify(c ?? "");
      })
      .join("\n");

  // ---------------------------------------------------------------- routing
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString("utf8");
    const url = new URL(req.url ?? "/", "http://emulator");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(",") : String(v ?? "");
    const wantsJson = (headers.accept ?? "").includes("application/json");

    // ---- control
    if (path === "/__control/requests") {
      const filter = url.searchParams.get("path");
      const contains = url.searchParams.get("contains");
      return send(
        res,
        200,
        recorded.filter(
          (r) =>
            (!filter || r.path === filter) && (!contains || r.body.includes(contains) || r.path.includes(contains)),
        ),
      );
    }
    if (path === "/__control/fail" && method === "POST") {
      failures.push(JSON.parse(body) as Failure);
      return send(res, 200, { ok: true });
    }
    if (path === "/__control/clear-failures" && method === "POST") {
      failures = [];
      return send(res, 200, { ok: true });
    }
    if (path === "/__control/events") {
      const sessionId = url.searchParams.get("sessionId");
      return send(
        res,
        200,
        events.filter((e) => !sessionId || e.sessionId === sessionId),
      );
    }
    if (path === "/__control/deliveries") return send(res, 200, deliveries);
    if (path === "/__control/health") return send(res, 200, { ok: true, apiUrl });
    if (path === "/__control/config" && method === "POST") {
      const cfg = JSON.parse(body || "{}") as { apiUrl?: string; stripeWebhookSecret?: string };
      if (cfg.apiUrl !== undefined) apiUrl = cfg.apiUrl;
      if (cfg.stripeWebhookSecret !== undefined) webhookSecret = cfg.stripeWebhookSecret;
      return send(res, 200, { ok: true, apiUrl });
    }

    // ---- pages (not provider calls: not recorded)
    if (method === "GET" && path === "/") return html(res, 200, indexPage({ apiUrl, base }));
    if (method === "GET" && (path === "/inbox" || path === "/inbox.json")) {
      const to = url.searchParams.get("to")?.toLowerCase() ?? null;
      const list = mails.filter((m) => !to || m.to.some((t) => t.toLowerCase() === to)).reverse();
      if (path === "/inbox.json") return send(res, 200, { items: list });
      return html(res, 200, inboxPage(list, to));
    }
    if (method === "GET" && path === "/checkout") {
      return html(res, 200, checkoutListPage([...checkoutSessions.values()].reverse().map(viewOf)));
    }
    const page = /^\/checkout\/([^/]+)(?:\/(pay|cancel))?$/.exec(path);
    if (page) {
      const id = decodeURIComponent(page[1] as string);
      const action = page[2] as "pay" | "cancel" | undefined;
      const s = checkoutSessions.get(id);
      if (!action && method === "GET") {
        if (!s)
          return html(
            res,
            404,
            checkoutResultPage({
              title: "No such Checkout Session",
              eventType: "-",
              delivery: { error: id },
              next: null,
            }),
          );
        return wantsJson ? send(res, 200, publicSession(s)) : html(res, 200, checkoutPage(viewOf(s)));
      }
      if (action && method === "POST") {
        const out = await settleCheckout(id, action);
        if (out.kind !== "sent") {
          const status = out.kind === "missing" ? 404 : 409;
          const message =
            out.kind === "missing"
              ? `No such Checkout Session: ${id}`
              : `This Checkout Session is ${out.session.status}`;
          if (wantsJson) return send(res, status, { error: message });
          return html(
            res,
            status,
            checkoutResultPage({ title: message, eventType: "-", delivery: { error: "nothing sent" }, next: null }),
          );
        }
        if (wantsJson)
          return send(res, 200, { session: publicSession(out.session), event: out.event, delivery: out.delivery });
        const next =
          action === "pay"
            ? (out.session.success_url?.replace("{CHECKOUT_SESSION_ID}", id) ?? null)
            : (out.session.cancel_url ?? null);
        return html(
          res,
          200,
          checkoutResultPage({
            title: action === "pay" ? "Payment succeeded" : "Checkout cancelled",
            eventType: out.event.type,
            delivery: out.delivery,
            next,
          }),
        );
      }
    }
    const meet = /^\/meet\/([^/]+)$/.exec(path);
    if (meet && method === "GET")
      return html(res, 200, meetPage(rooms.get(decodeURIComponent(meet[1] as string)) ?? null));
    if (path === "/favicon.ico") return send(res, 404, {});

    // ---- provider calls: recorded, then injected failures, then the provider
    recorded.push({
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: raw.length > RECORD_LIMIT ? raw.subarray(0, RECORD_LIMIT).toString("utf8") : body,
      at: Date.now(),
    });
    info(`${method} ${path}${url.search.length > 120 ? `${url.search.slice(0, 120)}…` : url.search}`);

    const failure = failures.find((f) => f.times > 0 && f.path === path && (!f.match || body.includes(f.match)));
    if (failure) {
      failure.times -= 1;
      const message = `injected ${failure.status}`;
      const shaped =
        path === "/emails"
          ? { name: "application_error", message, statusCode: failure.status }
          : { error: { type: "api_error", message } };
      return send(res, failure.status, failure.body ?? shaped);
    }

    // ---- Resend
    if (path === "/emails" && method === "POST") {
      const resendError = (status: number, name: string, message: string) => {
        loud("resend", req, message);
        return send(res, status, { name, message, statusCode: status });
      };
      if (!headers.authorization?.startsWith("Bearer ") || headers.authorization.length <= 7) {
        return resendError(
          401,
          "missing_api_key",
          "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
        );
      }
      if (!headers.authorization.startsWith("Bearer re_"))
        warn("resend: the API key does not look like a Resend key (re_…)");
      if (!headers["content-type"]?.includes("application/json")) {
        return resendError(422, "validation_error", "Content-Type must be application/json");
      }
      let parsed: { from?: unknown; to?: unknown; subject?: unknown; text?: unknown; html?: unknown };
      try {
        parsed = JSON.parse(body);
      } catch {
        return resendError(422, "validation_error", "The request body is not valid JSON");
      }
      const to = typeof parsed.to === "string" ? [parsed.to] : parsed.to;
      if (!parsed.from) return resendError(422, "missing_required_field", "The `from` field is missing.");
      const fromAddr = /<([^>]+)>\s*$/.exec(String(parsed.from))?.[1] ?? String(parsed.from);
      if (!EMAIL_RE.test(fromAddr)) {
        return resendError(
          422,
          "validation_error",
          "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
        );
      }
      if (!Array.isArray(to) || to.length === 0)
        return resendError(422, "missing_required_field", "The `to` field is missing.");
      if (to.length > 50) return resendError(422, "validation_error", "The `to` field can have at most 50 addresses.");
      const badTo = to.find((t) => typeof t !== "string" || !EMAIL_RE.test(t));
      if (badTo !== undefined)
        return resendError(422, "validation_error", `Invalid \`to\` field: ${JSON.stringify(badTo)}`);
      if (typeof parsed.subject !== "string" || !parsed.subject) {
        return resendError(422, "missing_required_field", "The `subject` field is missing.");
      }
      if (typeof parsed.text !== "string" && typeof parsed.html !== "string") {
        return resendError(422, "validation_error", "Either `html` or `text` must be provided.");
      }
      const key = headers["idempotency-key"];
      const fingerprint = createHash("sha256").update(body).digest("hex");
      if (key) {
        if (key.length > 256)
          return resendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
        const prior = idempotency.get(`resend:${key}`);
        if (prior) {
          if (prior.fingerprint !== fingerprint) {
            return resendError(
              409,
              "invalid_idempotent_request",
              "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
            );
          }
          return send(res, prior.status, prior.body);
        }
      }
      const mail: Mail = {
        id: randomUUID(),
        from: String(parsed.from),
        to: to as string[],
        subject: parsed.subject,
        text: typeof parsed.text === "string" ? parsed.text : null,
        html: typeof parsed.html === "string" ? parsed.html : null,
        createdAt: Date.now(),
      };
      mails.push(mail);
      info(`resend mail to ${mail.to.join(", ")}: ${mail.subject}`);
      const out = { id: mail.id };
      if (key) idempotency.set(`resend:${key}`, { fingerprint, status: 200, body: out });
      return send(res, 200, out);
    }
    const getMail = /^\/emails\/([^/]+)$/.exec(path);
    if (getMail && method === "GET") {
      const m = mails.find((x) => x.id === getMail[1]);
      if (!m) return send(res, 404, { name: "not_found", message: "Email not found", statusCode: 404 });
      return send(res, 200, {
        object: "email",
        id: m.id,
        to: m.to,
        from: m.from,
        created_at: new Date(m.createdAt).toISOString(),
        subject: m.subject,
        html: m.html,
        text: m.text,
        last_event: "delivered",
      });
    }

    // ---- Stripe
    if (path.startsWith("/v1/checkout/sessions")) {
      const authProblem = stripeAuthProblem(headers);
      if (authProblem) {
        loud("stripe", req, authProblem);
        return stripeError(res, 401, authProblem);
      }
      if (path === "/v1/checkout/sessions" && method === "POST") {
        if (!headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
          loud("stripe", req, `form body expected, got ${headers["content-type"]}`);
          return stripeError(res, 400, "Invalid request: the body must be application/x-www-form-urlencoded");
        }
        const key = headers["idempotency-key"];
        const fingerprint = createHash("sha256").update(body).digest("hex");
        if (key) {
          const prior = idempotency.get(`stripe:${key}`);
          if (prior) {
            if (prior.fingerprint !== fingerprint) {
              loud("stripe", req, `Idempotency-Key ${key} reused with different parameters`);
              return stripeError(
                res,
                400,
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
                { type: "idempotency_error" },
              );
            }
            return send(res, prior.status, prior.body, { "idempotent-replayed": "true" });
          }
        }
        const p = parseStripeForm(body);
        const problem = checkoutProblems(p);
        if (problem) {
          loud("stripe", req, problem.message);
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
        const session = {
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
          created: nowSec(),
          currency,
          customer: null,
          customer_creation: "if_required",
          customer_details: null,
          customer_email: (p.customer_email as string | undefined) ?? null,
          expires_at: p.expires_at !== undefined ? Number(p.expires_at) : nowSec() + 24 * 3600,
          livemode: false,
          locale: null,
          metadata: (p.metadata as Record<string, string> | undefined) ?? {},
          mode: p.mode as string,
          payment_intent: null,
          payment_method_types: ["card"],
          payment_status: "unpaid" as const,
          status: "open" as const,
          success_url: (p.success_url as string | undefined) ?? null,
          ui_mode: "hosted",
          url: `${base}/checkout/${id}`,
          productName,
          apiVersion: headers["stripe-version"] || "2026-10-28.endive",
        };
        checkoutSessions.set(id, session);
        info(`stripe checkout ${id}: ${total} ${currency} → ${session.url}`);
        const out = publicSession(session);
        if (key) idempotency.set(`stripe:${key}`, { fingerprint, status: 200, body: out });
        return send(res, 200, out);
      }
      if (path === "/v1/checkout/sessions" && method === "GET") {
        const data = [...checkoutSessions.values()].reverse().map(publicSession);
        return send(res, 200, { object: "list", data, has_more: false, url: "/v1/checkout/sessions" });
      }
      const one = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(path);
      if (one) {
        const id = decodeURIComponent(one[1] as string);
        const s = checkoutSessions.get(id);
        if (!s) {
          loud("stripe", req, `no such checkout.session ${id}`);
          return stripeError(res, 404, `No such checkout.session: '${id}'`, {
            param: "session",
            code: "resource_missing",
          });
        }
        if (!one[2] && method === "GET") return send(res, 200, publicSession(s));
        if (one[2] && method === "POST") {
          if (s.status !== "open") {
            return stripeError(res, 400, `Only Checkout Sessions with a status in ["open"] can be expired.`);
          }
          const out = await settleCheckout(id, "expire");
          return send(res, 200, out.kind === "missing" ? {} : publicSession(out.session));
        }
      }
      loud("stripe", req, "unrecognized request URL");
      return stripeError(res, 404, `Unrecognized request URL (${method}: ${path}).`);
    }

    // ---- Agora App Builder
    if (path === "/v1/channel" && method === "POST") {
      if (!headers["x-api-key"] || !headers["x-project-id"]) {
        loud("agora", req, "X-API-KEY and X-Project-ID headers are required");
        return send(res, 401, { error: "missing credentials" });
      }
      let parsed: { title?: unknown; enable_pstn?: unknown };
      try {
        parsed = JSON.parse(body);
      } catch {
        loud("agora", req, "body is not JSON");
        return send(res, 400, { error: "invalid JSON body" });
      }
      if (typeof parsed.title !== "string" || !parsed.title) {
        loud("agora", req, "title is required");
        return send(res, 400, { error: "title required" });
      }
      if (parsed.enable_pstn !== undefined && typeof parsed.enable_pstn !== "boolean") {
        loud("agora", req, "enable_pstn must be a boolean");
        return send(res, 400, { error: "enable_pstn must be a boolean" });
      }
      const room = {
        channel: rid("ch"),
        title: parsed.title,
        host_pass_phrase: randomBytes(8).toString("hex"),
        viewer_pass_phrase: randomBytes(8).toString("hex"),
      };
      rooms.set(room.host_pass_phrase, { channel: room.channel, title: room.title, role: "host" });
      rooms.set(room.viewer_pass_phrase, { channel: room.channel, title: room.title, role: "viewer" });
      return send(res, 200, room);
    }

    // ---- Deepgram
    if (path === "/v1/listen" && method === "POST") {
      const dgError = (status: number, code: string, msg: string) => {
        loud("deepgram", req, msg);
        return send(res, status, { err_code: code, err_msg: msg, request_id: newRequestId() });
      };
      if (!headers.authorization?.startsWith("Token ") || headers.authorization.length <= 6) {
        return dgError(401, "INVALID_AUTH", "Invalid credentials.");
      }
      const problems = listenQueryProblems(url.searchParams);
      if (problems.length > 0) return dgError(400, "Bad Request", problems.join("; "));
      const type = (headers["content-type"] ?? "").toLowerCase();
      let audio = raw;
      if (type.startsWith("application/json")) {
        let parsed: { url?: unknown } | null = null;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = null;
        }
        if (typeof parsed?.url !== "string")
          return dgError(400, "Bad Request", 'Invalid JSON body: expected { "url": string }');
        audio = Buffer.from(parsed.url);
      } else {
        if (raw.length === 0) return dgError(400, "Bad Request", "No audio was provided.");
        const audioLike =
          type === "" ||
          type.startsWith("audio/") ||
          type.startsWith("video/") ||
          type.startsWith("application/octet-stream");
        if (!audioLike) return dgError(400, "Bad Request", `${CORRUPT_AUDIO} (content-type ${type})`);
      }
      const container = type.startsWith("application/json") ? "url" : sniff(raw);
      if (sniffAudio && container === null) return dgError(400, "Bad Request", CORRUPT_AUDIO);
      const requestId = newRequestId();
      const result = listenResult({
        requestId,
        audio,
        duration: container === "url" ? 60 : durationOf(raw, container),
        query: url.searchParams,
      });
      const callback = url.searchParams.get("callback");
      if (!callback) return send(res, 200, result);
      if (deepgramCallbacks) later(callbackDelay, () => void deliverCallback(callback, requestId, result));
      return send(res, 200, { request_id: requestId });
    }

    // ---- OpenAI
    if ((path === "/v1/chat/completions" || path === "/v1/responses") && method === "POST") {
      const fail = (status: number, message: string, param: string | null = null, code: string | null = null) => {
        loud("openai", req, message);
        return openaiError(res, status, message, param, code);
      };
      if (!headers.authorization?.startsWith("Bearer ") || headers.authorization.length <= 7) {
        return fail(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        );
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return fail(
          400,
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
        );
      }
      if (typeof parsed.model !== "string" || !parsed.model)
        return fail(400, "you must provide a model parameter", "model");
      const created = nowSec();
      if (path === "/v1/chat/completions") {
        const messages = parsed.messages;
        if (!Array.isArray(messages) || messages.length === 0) {
          return fail(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }
        for (const [i, m] of messages.entries()) {
          const role = (m as { role?: unknown }).role;
          if (!["system", "developer", "user", "assistant", "tool"].includes(String(role))) {
            return fail(
              400,
              `Invalid value: '${role}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.`,
              `messages[${i}].role`,
              "invalid_value",
            );
          }
          const content = (m as { content?: unknown }).content;
          if (role !== "assistant" && typeof content !== "string" && !Array.isArray(content)) {
            return fail(
              400,
              `Missing required parameter: 'messages[${i}].content'.`,
              `messages[${i}].content`,
              "missing_required_parameter",
            );
          }
        }
        const format = formatOf(
          parsed.response_format as Format | undefined,
          "response_format",
          textOfMessages(messages),
        );
        if (!format.ok) return fail(400, format.message, format.param);
        const content = format.content();
        return send(res, 200, {
          id: `chatcmpl-${randomBytes(12).toString("hex")}`,
          object: "chat.completion",
          created,
          model: parsed.model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content, refusal: null, annotations: [] },
              logprobs: null,
              finish_reason: "stop",
            },
          ],
          usage: {
            prompt_tokens: Math.ceil(body.length / 4),
            completion_tokens: Math.ceil(content.length / 4),
            total_tokens: Math.ceil((body.length + content.length) / 4),
          },
          system_fingerprint: "fp_emulator",
        });
      }
      const input = parsed.input;
      if (typeof input !== "string" && !Array.isArray(input))
        return fail(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
      const format = formatOf(
        (parsed.text as { format?: Format } | undefined)?.format,
        "text.format",
        `${typeof parsed.instructions === "string" ? parsed.instructions : ""}\n${typeof input === "string" ? input : textOfMessages(input)}`,
      );
      if (!format.ok) return fail(400, format.message, format.param);
      const text = format.content();
      return send(res, 200, {
        id: `resp_${randomBytes(12).toString("hex")}`,
        object: "response",
        created_at: created,
        status: "completed",
        error: null,
        incomplete_details: null,
        model: parsed.model,
        output: [
          {
            type: "message",
            id: `msg_${randomBytes(12).toString("hex")}`,
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text, annotations: [] }],
          },
        ],
        output_text: text,
        usage: {
          input_tokens: Math.ceil(body.length / 4),
          output_tokens: Math.ceil(text.length / 4),
          total_tokens: Math.ceil((body.length + text.length) / 4),
        },
      });
    }

    loud("emulator", req, "no such route");
    return send(res, 404, { error: `emulator: no route ${method} ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(`[emulator] internal error on ${req.method} ${req.url}:`, err);
      if (!res.headersSent) send(res, 500, { error: String(err) });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
      if (!base) base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
      resolve({
        server,
        port,
        url: base,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(expiry);
            for (const t of pending) clearTimeout(t);
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
