/** What every Stripe API call shares: the API key check, the error envelope and Idempotency-Key replays. */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Call, send } from "../http.ts";
import { rid, type State } from "../state.ts";
import { parseStripeForm } from "./form.ts";

export interface StripeErrorDetails {
  param?: string;
  code?: string;
  type?: string;
}

/** Stripe's error envelope: `{ error: { code?, doc_url?, message, param?, request_log_url, type } }`. */
export const stripeErrorBody = (message: string, extra: StripeErrorDetails = {}) => ({
  error: {
    ...(extra.code ? { code: extra.code } : {}),
    doc_url: extra.code ? `https://stripe.com/docs/error-codes/${extra.code.replace(/_/g, "-")}` : undefined,
    message,
    ...(extra.param ? { param: extra.param } : {}),
    request_log_url: `https://dashboard.stripe.com/test/logs/${rid("req")}`,
    type: extra.type ?? "invalid_request_error",
  },
});

export const stripeError = (res: ServerResponse, status: number, message: string, extra: StripeErrorDetails = {}) =>
  send(res, status, stripeErrorBody(message, extra));

/** A parameter Stripe refuses before doing anything (400; never stored for an Idempotency-Key). */
export interface Problem {
  message: string;
  param?: string;
  code?: string;
}

/** A request Stripe refuses once it looked at its objects (a missing resource, a rule of the object). */
export interface Refused extends Problem {
  status: number;
}

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

/** Why Stripe would answer 401, or null for a test-mode secret (or restricted) key. */
export function stripeAuthProblem(headers: Record<string, string>): string | null {
  const auth = headers.authorization ?? "";
  if (!auth.startsWith("Bearer ")) return "You did not provide an API key.";
  const key = auth.slice(7);
  if (key.startsWith("sk_live_") || key.startsWith("rk_live_")) return "A live-mode key was sent to the emulator.";
  if (!key.startsWith("sk_") && !key.startsWith("rk_")) return `Invalid API Key provided: ${key.slice(0, 8)}***`;
  return null;
}

/** Stripe's POST bodies are form-encoded; anything else is refused (and reported). */
function refuseNonForm(state: State, call: Call): boolean {
  if (call.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) return false;
  state.log.loud("stripe", call, `form body expected, got ${call.headers["content-type"]}`);
  return stripeError(call.res, 400, "Invalid request: the body must be application/x-www-form-urlencoded");
}

/**
 * Idempotency-Key handling: a key seen before with the same body replays the first answer
 * (`Idempotent-Replayed: true`); with another body, or on another endpoint, it is Stripe's 400
 * `idempotency_error`.
 * Returns true when it answered; otherwise `remember` stores the answer about to be sent.
 */
function idempotent(
  state: State,
  call: Call,
): { answered: true } | { answered: false; remember: (status: number, body: unknown) => void } {
  const key = call.headers["idempotency-key"];
  // the endpoint is part of the fingerprint: Stripe scopes a key to the endpoint it was first used on
  const fingerprint = createHash("sha256").update(`${call.method} ${call.path}\n${call.body}`).digest("hex");
  if (!key) return { answered: false, remember: () => {} };
  const prior = state.idempotency.get(`stripe:${key}`);
  if (prior) {
    if (prior.fingerprint !== fingerprint) {
      state.log.loud("stripe", call, `Idempotency-Key ${key} reused with different parameters`);
      stripeError(
        call.res,
        400,
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        { type: "idempotency_error" },
      );
      return { answered: true };
    }
    send(call.res, prior.status, prior.body, { "idempotent-replayed": "true" });
    return { answered: true };
  }
  return {
    answered: false,
    remember: (status, body) => state.idempotency.set(`stripe:${key}`, { fingerprint, status, body }),
  };
}

const FAILURE_TYPES: Record<number, string> = { 402: "card_error", 429: "rate_limit_error" };
const FAILURE_MESSAGES: Record<number, string> = {
  402: "Your card was declined.",
  429: "Too many requests hit the API too quickly.",
  500: "An unknown error occurred on Stripe's side.",
  503: "Stripe is temporarily unavailable. Please try again.",
};

/** Answers the call with a failure queued by `POST /__control/stripe/fail`, if one matches. */
export function injectedStripeFailure(state: State, call: Call): boolean {
  const f = state.stripe.failures.find(
    (x) =>
      x.times > 0 &&
      (!x.method || x.method.toUpperCase() === call.method) &&
      (x.path.endsWith("*") ? call.path.startsWith(x.path.slice(0, -1)) : x.path === call.path) &&
      (!x.match || call.body.includes(x.match) || call.url.search.includes(x.match)),
  );
  if (!f) return false;
  f.times -= 1;
  state.log.info(`stripe: injected ${f.status} for ${call.method} ${call.path} (${f.times} left)`);
  return stripeError(call.res, f.status, f.message ?? FAILURE_MESSAGES[f.status] ?? `Injected failure ${f.status}`, {
    code: f.code,
    type: f.status >= 500 ? "api_error" : (FAILURE_TYPES[f.status] ?? "invalid_request_error"),
  });
}

/**
 * The start of every form-encoded create: the form body, an Idempotency-Key replay, then the
 * parameter checks (refused 400 and never stored for the key). Null when it already answered.
 */
export function acceptForm(
  state: State,
  call: Call,
  problemOf: (params: Record<string, unknown>) => Problem | null,
): { params: Record<string, unknown>; remember: (status: number, body: unknown) => void } | null {
  if (refuseNonForm(state, call)) return null;
  const once = idempotent(state, call);
  if (once.answered) return null;
  const params = parseStripeForm(call.body);
  const problem = problemOf(params);
  if (!problem) return { params, remember: once.remember };
  state.log.loud("stripe", call, problem.message);
  stripeError(call.res, 400, problem.message, problem);
  return null;
}
