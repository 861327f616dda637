/**
 * Stripe Connect accounts: `POST /v1/accounts` (Express only; form-encoded, Idempotency-Key
 * honoured), `GET /v1/accounts/:id`, `POST /v1/account_links` (`account_onboarding`: a single-use
 * link to the emulator's hosted onboarding page, expiring after 300 s like Stripe's), and
 * `updateAccount`, which every change of an account goes through so each sends `account.updated`.
 */
import { randomBytes } from "node:crypto";
import { type Call, send } from "../http.ts";
import { EMAIL_RE, type State, unixSeconds } from "../state.ts";
import { acceptForm, metadataProblem, type Problem, type Refused, stripeError } from "./api.ts";
import { createEvent, type EventContext } from "./events.ts";
import type { AccountState, SentEvent, StoredAccount, StoredAccountLink } from "./store.ts";

/** How long an Account Link works (Stripe: "a few minutes"; its `expires_at` is created + 300). */
export const ACCOUNT_LINK_TTL_SECONDS = 300;
const DEFAULT_API_VERSION = "2026-10-28.endive";

const KNOWN_ACCOUNT_PARAMS = new Set([
  "type",
  "country",
  "email",
  "capabilities",
  "metadata",
  "business_type",
  "business_profile",
  "controller",
  "default_currency",
  "settings",
  "tos_acceptance",
  "expand",
]);
const CAPABILITIES = new Set(["transfers", "card_payments"]);

/** What onboarding still asks for, in Stripe's words, until details are submitted. */
const DUE = [
  "business_profile.mcc",
  "business_profile.url",
  "external_account",
  "individual.dob.day",
  "individual.dob.month",
  "individual.dob.year",
  "individual.email",
  "individual.first_name",
  "individual.last_name",
  "tos_acceptance.date",
  "tos_acceptance.ip",
];

function requirements(a: StoredAccount) {
  const due = a.details_submitted ? [] : DUE;
  const verifying = a.details_submitted && !a.payouts_enabled;
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: due,
    disabled_reason: a.details_submitted
      ? verifying
        ? "requirements.pending_verification"
        : null
      : "requirements.past_due",
    errors: [],
    eventually_due: due,
    past_due: due,
    pending_verification: verifying ? ["individual.verification.document"] : [],
  };
}

/** The Account as Stripe's API returns it (the fields an Express account has to its platform). */
export function accountView(a: StoredAccount) {
  return {
    id: a.id,
    object: "account" as const,
    business_profile: { mcc: null, name: null, product_description: null, support_email: null, url: null },
    business_type: null,
    capabilities: a.transfersRequested ? { transfers: a.transfers } : {},
    charges_enabled: a.charges_enabled,
    controller: { is_controller: true, type: "application" },
    country: a.country,
    created: a.created,
    default_currency: "usd",
    details_submitted: a.details_submitted,
    email: a.email,
    external_accounts: {
      object: "list",
      data: [],
      has_more: false,
      total_count: 0,
      url: `/v1/accounts/${a.id}/external_accounts`,
    },
    future_requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: null,
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
    metadata: a.metadata,
    payouts_enabled: a.payouts_enabled,
    requirements: requirements(a),
    settings: { payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: "daily" } } },
    tos_acceptance: { date: a.details_submitted ? a.created : null },
    type: "express" as const,
  };
}

const missing = (id: string, param = "account"): Refused => ({
  status: 400,
  code: "resource_missing",
  param,
  message: `No such account: '${id}'`,
});

function accountProblem(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!KNOWN_ACCOUNT_PARAMS.has(k))
      return { message: `Received unknown parameter: ${k}`, param: k, code: "parameter_unknown" };
  }
  if (p.type === undefined && p.controller === undefined) {
    return { message: "Missing required param: type.", param: "type", code: "parameter_missing" };
  }
  if (p.type !== "express") {
    // Stripe accepts standard and custom too; the product only makes Express accounts
    return {
      message: `The emulator makes Express accounts only (type=express), not '${String(p.type)}'.`,
      param: "type",
      code: "parameter_invalid",
    };
  }
  if (p.email !== undefined && !EMAIL_RE.test(String(p.email))) {
    return { message: `Invalid email address: ${String(p.email)}`, param: "email", code: "email_invalid" };
  }
  if (p.country !== undefined && !/^[A-Z]{2}$/.test(String(p.country))) {
    return {
      message: `Country '${String(p.country)}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'.`,
      param: "country",
      code: "country_unsupported",
    };
  }
  const caps = p.capabilities;
  if (caps !== undefined) {
    if (typeof caps !== "object" || caps === null || Array.isArray(caps))
      return { message: "Invalid hash", param: "capabilities" };
    for (const [name, v] of Object.entries(caps)) {
      if (!CAPABILITIES.has(name))
        return {
          message: `Received unknown parameter: capabilities[${name}]`,
          param: `capabilities[${name}]`,
          code: "parameter_unknown",
        };
      const requested = typeof v === "object" && v !== null ? (v as Record<string, unknown>).requested : undefined;
      if (requested !== "true" && requested !== "false") {
        return {
          message: `Invalid boolean: ${String(requested)}`,
          param: `capabilities[${name}][requested]`,
          code: "parameter_invalid_boolean",
        };
      }
    }
  }
  return metadataProblem(p.metadata);
}

/** `POST /v1/accounts`. */
function createAccount(state: State, call: Call): true {
  const form = acceptForm(state, call, accountProblem);
  if (!form) return true;
  const p = form.params;
  const caps = (p.capabilities ?? {}) as Record<string, Record<string, string>>;
  const a: StoredAccount = {
    id: `acct_${randomBytes(8).toString("hex").toUpperCase()}`,
    created: unixSeconds(),
    email: (p.email as string | undefined) ?? null,
    country: (p.country as string | undefined) ?? "US",
    metadata: (p.metadata as Record<string, string> | undefined) ?? {},
    transfersRequested: caps.transfers?.requested === "true",
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: false,
    transfers: "inactive",
    apiVersion: call.headers["stripe-version"] || DEFAULT_API_VERSION,
    refuseTransfers: null,
  };
  state.stripe.accounts.set(a.id, a);
  state.log.info(`stripe account ${a.id} (express) for ${a.email ?? "no e-mail"}`);
  const out = accountView(a);
  form.remember(200, out);
  return send(call.res, 200, out);
}

const LINK_PARAMS = new Set([
  "account",
  "type",
  "return_url",
  "refresh_url",
  "collect",
  "collection_options",
  "expand",
]);

function linkProblem(p: Record<string, unknown>): Problem | null {
  for (const k of Object.keys(p)) {
    if (!LINK_PARAMS.has(k))
      return { message: `Received unknown parameter: ${k}`, param: k, code: "parameter_unknown" };
  }
  for (const k of ["account", "type"] as const) {
    if (p[k] === undefined) return { message: `Missing required param: ${k}.`, param: k, code: "parameter_missing" };
  }
  if (p.type !== "account_onboarding" && p.type !== "account_update") {
    return {
      message: "Invalid type: must be one of account_onboarding or account_update",
      param: "type",
      code: "parameter_invalid",
    };
  }
  if (p.type === "account_update")
    return { message: "The emulator makes account_onboarding links only.", param: "type" };
  for (const u of ["refresh_url", "return_url"] as const) {
    if (p[u] === undefined) return { message: `Missing required param: ${u}.`, param: u, code: "parameter_missing" };
    try {
      new URL(String(p[u]));
    } catch {
      return { message: "Not a valid URL", param: u, code: "url_invalid" };
    }
  }
  return null;
}

/** `POST /v1/account_links`: a fresh single-use link to `/connect/onboarding/:token`. */
function createLink(state: State, call: Call): true {
  const form = acceptForm(state, call, linkProblem);
  if (!form) return true;
  const p = form.params;
  const account = state.stripe.accounts.get(String(p.account));
  if (!account) {
    const refused = missing(String(p.account));
    state.log.loud("stripe", call, refused.message);
    return stripeError(call.res, refused.status, refused.message, refused);
  }
  const created = unixSeconds();
  const link: StoredAccountLink = {
    token: randomBytes(16).toString("hex"),
    account: account.id,
    created,
    expires_at: created + ACCOUNT_LINK_TTL_SECONDS,
    return_url: String(p.return_url),
    refresh_url: String(p.refresh_url),
    openedAt: null,
    finishedAt: null,
  };
  state.stripe.accountLinks.set(link.token, link);
  const out = {
    object: "account_link",
    created,
    expires_at: link.expires_at,
    url: `${state.base}/connect/onboarding/${link.token}`,
  };
  state.log.info(`stripe account link for ${account.id} → ${out.url}`);
  form.remember(200, out);
  return send(call.res, 200, out);
}

/**
 * Changes an account and builds its `account.updated` (not yet delivered: hand it to `dispatch`),
 * with `previous_attributes` naming what changed. Null when nothing changed (Stripe sends nothing).
 */
export function updateAccount(
  state: State,
  a: StoredAccount,
  patch: Partial<AccountState>,
  request: EventContext["request"] = null,
): SentEvent | null {
  const before = accountView(a);
  Object.assign(a, patch);
  const after = accountView(a);
  const previous: Record<string, unknown> = {};
  for (const k of [
    "charges_enabled",
    "payouts_enabled",
    "details_submitted",
    "capabilities",
    "requirements",
    "tos_acceptance",
  ] as const) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) previous[k] = before[k];
  }
  if (Object.keys(previous).length === 0) return null;
  state.log.info(`stripe account ${a.id}: ${JSON.stringify(patch)}`);
  const ctx: EventContext = { sessionId: null, paymentIntent: null, apiVersion: a.apiVersion, request, account: a.id };
  return createEvent(state, "account.updated", after, ctx, { previousAttributes: previous });
}

/** The two outcomes of the hosted onboarding page (and of `POST /__control/stripe/accounts/:id/onboard`). */
export const ONBOARDED: Record<"complete" | "pending", AccountState> = {
  complete: { details_submitted: true, charges_enabled: true, payouts_enabled: true, transfers: "active" },
  pending: { details_submitted: true, charges_enabled: false, payouts_enabled: false, transfers: "pending" },
};

/** `/v1/accounts[/:id]`, `/v1/account_links`; false for any other path. */
export function connectAccounts(state: State, call: Call): boolean {
  const { path, method, res } = call;
  if (path === "/v1/accounts" && method === "POST") return createAccount(state, call);
  if (path === "/v1/account_links" && method === "POST") return createLink(state, call);
  if (path === "/v1/accounts" && method === "GET") {
    const data = [...state.stripe.accounts.values()].reverse().map(accountView);
    return send(res, 200, { object: "list", data, has_more: false, url: "/v1/accounts" });
  }
  const one = /^\/v1\/accounts\/([^/]+)$/.exec(path);
  if (!one || method !== "GET") return false;
  const id = decodeURIComponent(one[1] as string);
  const a = state.stripe.accounts.get(id);
  if (a) return send(res, 200, accountView(a));
  state.log.loud("stripe", call, `no such account ${id}`);
  // Stripe answers an account the platform cannot see with 403 permission_error, not 404
  return stripeError(
    res,
    403,
    `The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
    {
      code: "account_invalid",
      type: "invalid_request_error",
    },
  );
}
