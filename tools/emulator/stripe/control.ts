/**
 * `/__control/stripe/*` (JSON in, JSON out), for the e2e suite and the demo:
 * - `POST refund` `{ paymentIntent? | checkoutSessionId?, amount? }` → `{ refund, charge }`
 * - `POST dispute` `{ paymentIntent? | checkoutSessionId? }` → `{ dispute }`
 * - `POST disputes/:id/close` `{ status: "won" | "lost" }` → `{ dispute }`
 * - `POST fail` `{ method?, path, match?, status, code?, message?, times? }` queues failures; `DELETE fail` clears them.
 * Connect (README.md has the shapes): `GET accounts`, `GET transfers`, `POST accounts/:id/update`
 * (a patch, or `{ outcome }`), `POST accounts/:id/onboard`, `POST accounts/:id/refuse-transfers`,
 * `DELETE accounts/:id/refuse-transfers`, `POST accounts/:id/expire-links`, `POST transfers/:id/reverse`.
 * Refusals answer with Stripe's error envelope and the status Stripe would use (404 for unknown ids).
 */
import { type Call, jsonOf, send } from "../http.ts";
import { type State, unixSeconds } from "../state.ts";
import { type Refused, stripeError } from "./api.ts";
import { accountView } from "./connect.ts";
import {
  type Done,
  dashboardCloseDispute,
  dashboardDispute,
  dashboardRefund,
  dashboardReverseTransfer,
  dashboardUpdateAccount,
  refuseTransfers,
} from "./dashboard.ts";
import { transferView } from "./transfers.ts";

const answer = <T>(call: Call, out: Done<T> | Refused) =>
  "status" in out ? stripeError(call.res, out.status, out.message, out) : send(call.res, 200, out.body);

/** Connect's control answers also say which events went out and how their first delivery went. */
const answerSent = <T extends object>(call: Call, out: Done<T> | Refused) =>
  "status" in out
    ? stripeError(call.res, out.status, out.message, out)
    : send(call.res, 200, { ...out.body, sent: out.sent });

/** `/__control/stripe/accounts…` and `/__control/stripe/transfers…`; false for any other path. */
async function connectControl(state: State, call: Call): Promise<boolean> {
  const { path, method } = call;
  if (method === "GET" && path === "/__control/stripe/accounts") {
    const all = [...state.stripe.accounts.values()].reverse();
    return send(
      call.res,
      200,
      all.map((a) => ({ ...accountView(a), refuseTransfers: a.refuseTransfers })),
    );
  }
  if (method === "GET" && path === "/__control/stripe/transfers") {
    const all = [...state.stripe.transfers].reverse();
    return send(
      call.res,
      200,
      all.map((t) => ({ ...transferView(t), stripeAccountHeader: t.stripeAccountHeader })),
    );
  }
  const acct = /^\/__control\/stripe\/accounts\/([^/]+)\/(update|onboard|refuse-transfers|expire-links)$/.exec(path);
  const body = (jsonOf(call.body || "{}") ?? {}) as Record<string, unknown>;
  if (acct) {
    const id = decodeURIComponent(acct[1] as string);
    const a = state.stripe.accounts.get(id);
    const action = acct[2];
    if (!a)
      return stripeError(call.res, 404, `No such account: '${id}'`, { code: "resource_missing", param: "account" });
    if (action === "refuse-transfers" && method === "DELETE") {
      a.refuseTransfers = null;
      return send(call.res, 200, { account: accountView(a), refuseTransfers: null });
    }
    if (method !== "POST") return false;
    if (action === "update") return answerSent(call, await dashboardUpdateAccount(state, id, body));
    if (action === "onboard") {
      return answerSent(call, await dashboardUpdateAccount(state, id, { outcome: body.outcome ?? "complete" }));
    }
    if (action === "refuse-transfers") return answer(call, refuseTransfers(state, id, body));
    let expired = 0;
    for (const link of state.stripe.accountLinks.values()) {
      // the links that still work: not yet opened, not yet past expires_at
      if (link.account === id && link.openedAt === null && link.expires_at > unixSeconds()) {
        link.expires_at = unixSeconds() - 1;
        expired += 1;
      }
    }
    return send(call.res, 200, { expired });
  }
  const reverse = /^\/__control\/stripe\/transfers\/([^/]+)\/reverse$/.exec(path);
  if (reverse && method === "POST") {
    return answerSent(
      call,
      await dashboardReverseTransfer(state, decodeURIComponent(reverse[1] as string), body.amount),
    );
  }
  return false;
}

function failureProblem(f: Record<string, unknown> | null | undefined): string | null {
  if (typeof f !== "object" || f === null) return "body must be a JSON object";
  if (typeof f.path !== "string" || !f.path.startsWith("/v1/")) {
    return "path must be a Stripe API path such as /v1/refunds (a trailing * matches a prefix)";
  }
  const status = f.status as number;
  if (!Number.isInteger(status) || status < 400 || status > 599) return "status must be an HTTP error status (400-599)";
  const times = (f.times ?? 1) as number;
  if (!Number.isInteger(times) || times < 1) return "times must be a positive integer";
  return null;
}

function queueFailure(state: State, call: Call): true {
  const f = jsonOf(call.body) as Record<string, unknown> | null | undefined;
  const problem = failureProblem(f);
  if (problem || !f) return send(call.res, 400, { error: problem });
  state.stripe.failures.push({
    method: typeof f.method === "string" ? f.method.toUpperCase() : undefined,
    path: f.path as string,
    match: typeof f.match === "string" ? f.match : undefined,
    status: f.status as number,
    code: typeof f.code === "string" ? f.code : undefined,
    message: typeof f.message === "string" ? f.message : undefined,
    times: (f.times ?? 1) as number,
  });
  return send(call.res, 200, { ok: true, queued: state.stripe.failures.filter((x) => x.times > 0) });
}

export async function stripeControl(state: State, call: Call): Promise<boolean> {
  const { path, method } = call;
  if (!path.startsWith("/__control/stripe/")) return false;
  if (await connectControl(state, call)) return true;
  if (path === "/__control/stripe/fail" && method === "DELETE") {
    state.stripe.failures = [];
    return send(call.res, 200, { ok: true });
  }
  if (method !== "POST") return false;
  if (path === "/__control/stripe/fail") return queueFailure(state, call);
  const body = (jsonOf(call.body || "{}") ?? {}) as Record<string, unknown>;
  if (path === "/__control/stripe/refund") return answer(call, await dashboardRefund(state, body, body.amount));
  if (path === "/__control/stripe/dispute") return answer(call, await dashboardDispute(state, body));
  const close = /^\/__control\/stripe\/disputes\/([^/]+)\/close$/.exec(path);
  if (close) {
    return answer(call, await dashboardCloseDispute(state, decodeURIComponent(close[1] as string), body.status));
  }
  return false;
}
