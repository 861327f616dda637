/**
 * Rate limits on the expensive or abusable routes, with the Workers Rate Limiting binding: the one
 * table of which route is limited, by which binding, per user and per client IP.
 *
 * - Per user: the `sub` of a bearer token that verifies (a forged token naming someone else never
 *   spends that user's budget; it gets only the per-IP check and then the route's 401).
 * - Per IP: `clientIpKey` (cf-connecting-ip only, IPv6 by /64).
 * - Over either limit: 429 `rate_limited` with `Retry-After` = the period. The binding does not say
 *   when its window resets, and a fixed window never lasts longer than its period.
 *
 * The binding's counters are per Cloudflare location and approximate (Cloudflare's documentation):
 * a burst guard, not an accounting limit. Exact budgets that must hold across locations (login-code
 * guessing) stay D1-backed (modules/auth). The limits themselves live in wrangler.toml, one
 * `[[ratelimits]]` entry per binding; `limit` below repeats them for the docs and the OpenAPI
 * document, and test/http/rate-limit.test.ts fails when the two disagree.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { RateLimitBindings } from "../env";
import { verifyAccessToken } from "../modules/auth/tokens";
import { clientIpKey } from "./client-ip";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";
import { problem } from "./openapi";

export type RateLimitBindingName = keyof RateLimitBindings;

/** Every `[[ratelimits]]` entry of wrangler.toml uses this period (the binding allows 10 or 60). */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

export interface Budget {
  binding: RateLimitBindingName;
  /** Requests per period; must equal the binding's `simple.limit` in wrangler.toml. */
  limit: number;
}

export interface RateLimitClass {
  /** What the class is, for the 429 detail. */
  what: string;
  user?: Budget;
  ip: Budget;
}

/**
 * The classes of limited routes. Per-IP budgets are several times the per-user ones: one IP can be
 * a school or an office behind one NAT address.
 */
export const rateLimitClasses = {
  login: { what: "code verifications", ip: { binding: "RATE_LIMIT_LOGIN_IP", limit: 30 } },
  refresh: { what: "token refreshes", ip: { binding: "RATE_LIMIT_REFRESH_IP", limit: 60 } },
  checkout: {
    what: "checkouts",
    user: { binding: "RATE_LIMIT_CHECKOUT_USER", limit: 5 },
    ip: { binding: "RATE_LIMIT_CHECKOUT_IP", limit: 30 },
  },
  booking: {
    what: "bookings",
    user: { binding: "RATE_LIMIT_BOOKING_USER", limit: 10 },
    ip: { binding: "RATE_LIMIT_BOOKING_IP", limit: 60 },
  },
  upload: {
    what: "uploads",
    user: { binding: "RATE_LIMIT_UPLOAD_USER", limit: 5 },
    ip: { binding: "RATE_LIMIT_UPLOAD_IP", limit: 30 },
  },
  report: {
    what: "report regenerations",
    user: { binding: "RATE_LIMIT_REPORT_USER", limit: 3 },
    ip: { binding: "RATE_LIMIT_REPORT_IP", limit: 20 },
  },
  export: {
    what: "data exports",
    user: { binding: "RATE_LIMIT_EXPORT_USER", limit: 3 },
    ip: { binding: "RATE_LIMIT_EXPORT_IP", limit: 20 },
  },
} as const satisfies Record<string, RateLimitClass>;

export type RateLimitClassName = keyof typeof rateLimitClasses;

export interface RateLimitedRoute {
  method: "GET" | "POST" | "PUT";
  /** OpenAPI-style template (`{id}` is one path segment), as in the OpenAPI document. */
  path: string;
  class: RateLimitClassName;
}

/**
 * The limited routes. A path may name a route that does not exist yet: it is limited from the day
 * it lands.
 */
export const rateLimitedRoutes: readonly RateLimitedRoute[] = [
  { method: "POST", path: "/v1/auth/otp/verify", class: "login" },
  { method: "POST", path: "/v1/auth/refresh", class: "refresh" },
  { method: "POST", path: "/v1/credits/checkout", class: "checkout" },
  { method: "POST", path: "/v1/sessions", class: "booking" },
  { method: "POST", path: "/v1/sessions/series", class: "booking" },
  { method: "POST", path: "/v1/sessions/{id}/reschedule", class: "booking" },
  { method: "PUT", path: "/v1/sessions/{id}/recording", class: "upload" },
  { method: "PUT", path: "/v1/me/tutor-profile/avatar", class: "upload" },
  { method: "POST", path: "/v1/sessions/{id}/report/regenerate", class: "report" },
  // streams every row the caller owns: hundreds of D1 queries per request
  { method: "GET", path: "/v1/me/export", class: "export" },
];

const compiled = rateLimitedRoutes.map((r) => ({
  ...r,
  re: new RegExp(`^${r.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}/]+\}/g, "[^/]+")}$`),
}));

/** The class limiting `method path`, if any. */
export function rateLimitClassOf(method: string, path: string): RateLimitClass | undefined {
  const hit = compiled.find((r) => r.method === method && r.re.test(path));
  return hit ? rateLimitClasses[hit.class] : undefined;
}

/** The verified token's `sub`, or undefined (no token, or one that does not verify). */
async function verifiedSub(c: Parameters<MiddlewareHandler<AppEnv>>[0]): Promise<string | undefined> {
  const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return undefined;
  try {
    return (await verifyAccessToken(c.var.svc.config, token)).sub;
  } catch {
    return undefined;
  }
}

async function withinBudget(c: Parameters<MiddlewareHandler<AppEnv>>[0], budget: Budget, key: string) {
  const limiter = c.env[budget.binding];
  // A missing binding is a deployment error: refusing to run beats silently not limiting.
  if (!limiter) throw new Error(`rate limit binding ${budget.binding} is not bound (wrangler.toml [[ratelimits]])`);
  try {
    return (await limiter.limit({ key })).success;
  } catch (err) {
    // The limiter itself failing is an outage of a burst guard, not a reason to refuse the request.
    console.error(
      JSON.stringify({ level: "error", msg: "rate limiter failed", binding: budget.binding, error: String(err) }),
    );
    return true;
  }
}

/** The limits of the table above; mount after `services()` (it reads the config). */
export const rateLimits = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  // HEAD runs the GET handler (and its cost): it counts as the GET
  const cls = rateLimitClassOf(c.req.method === "HEAD" ? "GET" : c.req.method, c.req.path);
  if (!cls || c.var.svc.config.RATE_LIMITS === "off") return next();
  const sub = cls.user ? await verifiedSub(c) : undefined;
  const [userOk, ipOk] = await Promise.all([
    cls.user && sub !== undefined ? withinBudget(c, cls.user, sub) : true,
    withinBudget(c, cls.ip, clientIpKey(c.req.raw.headers)),
  ]);
  if (!userOk || !ipOk) {
    const who = userOk ? "from this network" : "for this account";
    throw new ApiError(
      "rate_limited",
      `Too many ${cls.what} ${who}; try again in ${RATE_LIMIT_PERIOD_SECONDS} seconds`,
      undefined,
      RATE_LIMIT_PERIOD_SECONDS,
    );
  }
  await next();
};

/** Adds the 429 to every limited operation of the OpenAPI document (call after mounting the routes). */
export function documentRateLimits(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route") continue;
    const route = def.route;
    if (!rateLimitClassOf(route.method.toUpperCase(), route.path)) continue;
    route.responses["429"] ??= problem("Rate limited (code: rate_limited)", ["rate_limited"]);
  }
}
