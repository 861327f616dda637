/**
 * `/__control/*`: how tests and tools steer the emulator and look inside it (recorded calls,
 * injected failures, Stripe events sent, outgoing deliveries, run-time config; the webhook receivers'
 * routes are in hooks.ts). Also the two steps
 * every provider call goes through before its provider: it is recorded, then a queued failure may answer it.
 */
import { type Call, send } from "./http.ts";
import type { Failure, State } from "./state.ts";

const RECORD_LIMIT = 1024 * 1024;

export function control(state: State, { path, method, url, body, res }: Call): boolean {
  if (path === "/__control/requests") {
    const filter = url.searchParams.get("path");
    const contains = url.searchParams.get("contains");
    return send(
      res,
      200,
      state.recorded.filter(
        (r) => (!filter || r.path === filter) && (!contains || r.body.includes(contains) || r.path.includes(contains)),
      ),
    );
  }
  if (path === "/__control/fail" && method === "POST") {
    state.failures.push(JSON.parse(body) as Failure);
    return send(res, 200, { ok: true });
  }
  if (path === "/__control/clear-failures" && method === "POST") {
    state.failures = [];
    return send(res, 200, { ok: true });
  }
  if (path === "/__control/events") {
    const sessionId = url.searchParams.get("sessionId");
    const paymentIntent = url.searchParams.get("paymentIntent");
    const type = url.searchParams.get("type");
    const account = url.searchParams.get("account");
    return send(
      res,
      200,
      state.stripe.events.filter(
        (e) =>
          (!sessionId || e.sessionId === sessionId) &&
          (!paymentIntent || e.paymentIntent === paymentIntent) &&
          (!type || e.type === type) &&
          (!account || e.account === account),
      ),
    );
  }
  if (path === "/__control/deliveries") return send(res, 200, state.deliveries);
  if (path === "/__control/health") return send(res, 200, { ok: true, apiUrl: state.apiUrl });
  if (path === "/__control/config" && method === "POST") {
    const cfg = JSON.parse(body || "{}") as {
      apiUrl?: string;
      stripeWebhookSecret?: string;
      stripeConnectWebhookSecret?: string | null;
    };
    if (cfg.apiUrl !== undefined) state.apiUrl = cfg.apiUrl;
    if (cfg.stripeWebhookSecret !== undefined) state.webhookSecret = cfg.stripeWebhookSecret;
    if (cfg.stripeConnectWebhookSecret !== undefined) state.connectWebhookSecret = cfg.stripeConnectWebhookSecret;
    return send(res, 200, { ok: true, apiUrl: state.apiUrl });
  }
  return false;
}

/** Keeps the call for `/__control/requests` (bodies cut at 1 MiB). */
export function record(state: State, { method, path, url, headers, raw, body }: Call) {
  state.recorded.push({
    method,
    path,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: raw.length > RECORD_LIMIT ? raw.subarray(0, RECORD_LIMIT).toString("utf8") : body,
    at: Date.now(),
  });
  state.log.info(`${method} ${path}${url.search.length > 120 ? `${url.search.slice(0, 120)}…` : url.search}`);
}

/** Answers the call with a failure queued by `POST /__control/fail`, if one matches. */
export function injectedFailure(state: State, { path, body, res }: Call): boolean {
  const failure = state.failures.find((f) => f.times > 0 && f.path === path && (!f.match || body.includes(f.match)));
  if (!failure) return false;
  failure.times -= 1;
  const message = `injected ${failure.status}`;
  const shaped =
    path === "/emails"
      ? { name: "application_error", message, statusCode: failure.status }
      : path.startsWith("/hooks/")
        ? { error: message }
        : { error: { type: "api_error", message } };
  return send(res, failure.status, failure.body ?? shaped);
}
