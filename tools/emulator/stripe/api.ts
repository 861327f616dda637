/** What every Stripe API call shares: the API key check, the error envelope and Idempotency-Key replays. */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Call, send } from "../http.ts";
import { rid, type State } from "../state.ts";

export interface StripeErrorDetails {
  param?: string;
  code?: string;
  type?: string;
}

/** Stripe's error envelope: `{ error: { code?, doc_url?, message, param?, request_log_url, type } }`. */
export const stripeError = (res: ServerResponse, status: number, message: string, extra: StripeErrorDetails = {}) =>
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
export function refuseNonForm(state: State, call: Call): boolean {
  if (call.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) return false;
  state.log.loud("stripe", call, `form body expected, got ${call.headers["content-type"]}`);
  return stripeError(call.res, 400, "Invalid request: the body must be application/x-www-form-urlencoded");
}

/**
 * Idempotency-Key handling: a key seen before with the same body replays the first answer
 * (`Idempotent-Replayed: true`); with another body it is Stripe's 400 `idempotency_error`.
 * Returns true when it answered; otherwise `remember` stores the answer about to be sent.
 */
export function idempotent(
  state: State,
  call: Call,
): { answered: true } | { answered: false; remember: (status: number, body: unknown) => void } {
  const key = call.headers["idempotency-key"];
  const fingerprint = createHash("sha256").update(call.body).digest("hex");
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
