/**
 * Cross-cutting middleware: request id, JSON access log, security headers, the configuration gate,
 * CORS, D1 session.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { ConfigError, getConfig } from "../config";
import { openSession } from "../db/client";
import { meteredEnv, meterHeaders, newMeter } from "../db/meter";
import { loadClock } from "../lib/clock";
import type { AppEnv } from "./context";
import { DomainError, problemResponse } from "./errors";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export const requestId = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const id = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  c.res.headers.set("x-request-id", id);
};

/** One JSON line per request. The path never includes the query string (callback tokens live there). */
export const accessLog = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const started = Date.now();
  await next();
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Date.now() - started,
      requestId: c.get("requestId"),
    }),
  );
};

/**
 * CSP of the API reference page (/v1/docs): its scripts, the OpenAPI document and any "try it"
 * request come from this origin only (no CDN, no web fonts). Styles allow 'unsafe-inline' because
 * the reference injects its component styles at run time.
 */
export const DOCS_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Cross-Origin-Resource-Policy: API responses are for this origin's fetches and CORS (CORP does not
 * restrict CORS requests); it keeps other sites from loading them as no-cors subresources
 * (`<script>`, `<img>`), so they never enter another site's process. Tutor avatars are the
 * exception: a web app on another origin shows them with `<img src>`, a no-cors request that
 * `same-origin` would block; they are public images anyway.
 */
const CROSS_ORIGIN_RESOURCES = [/^\/v1\/tutors\/[^/]+\/avatar$/];

export const securityHeaders = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  await next();
  const h = c.res.headers;
  h.set(
    "cross-origin-resource-policy",
    CROSS_ORIGIN_RESOURCES.some((re) => re.test(c.req.path)) ? "cross-origin" : "same-origin",
  );
  h.set("x-content-type-options", "nosniff");
  h.set("x-frame-options", "DENY");
  h.set("referrer-policy", "no-referrer");
  h.set("strict-transport-security", "max-age=31536000; includeSubDomains");
  h.set("cross-origin-opener-policy", "same-origin");
  if (!h.has("content-security-policy")) {
    h.set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
  }
  if (!h.has("cache-control")) h.set("cache-control", "no-store");
};

/**
 * Parses the configuration before anything else runs. A Worker whose settings are invalid (e.g.
 * production without CORS_ORIGINS) answers every request 500 and logs which setting is wrong; the
 * client sees only that the service is misconfigured.
 */
export const configured = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  try {
    getConfig(c.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(
      JSON.stringify({ level: "error", msg: "misconfigured", requestId: c.get("requestId"), error: err.message }),
    );
    return problemResponse(new DomainError("internal", "The service is misconfigured; its log names the setting"));
  }
  await next();
};

/** CORS for the origins of CORS_ORIGINS (`*` outside production only: config.ts refuses it there). */
export const corsPolicy = (): MiddlewareHandler<AppEnv> =>
  cors({
    origin: (origin, c) => {
      const allowed = getConfig(c.env as AppEnv["Bindings"]).CORS_ORIGINS;
      if (allowed === "*") return "*";
      return allowed.includes(origin) ? origin : null;
    },
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "X-D1-Bookmark"],
    exposeHeaders: ["X-Request-Id", "X-D1-Bookmark", "Retry-After"],
    maxAge: 600,
  });

/** Parses config (once per env) and opens the request's D1 session; returns its bookmark. */
export const services = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const config = getConfig(c.env);
  // outside production every request counts its D1 rows (db/meter.ts) and answers them as headers
  const meter = config.ENVIRONMENT === "production" ? null : newMeter();
  const env = meter ? meteredEnv(c.env, meter) : c.env;
  const handle = openSession(env.DB, c.req.header("x-d1-bookmark"));
  c.set("dbHandle", handle);
  // The test clock's offset is read from the primary (not the session): a clock move must be seen at once.
  const clock = await loadClock(c.env.DB, config);
  c.set("svc", {
    env,
    config,
    db: handle.db,
    d1: handle.d1,
    requestId: c.get("requestId"),
    clock,
    defer: (p) => {
      try {
        c.executionCtx.waitUntil(p);
      } catch {
        void p;
      }
    },
  });
  await next();
  const bookmark = handle.bookmark();
  if (bookmark) c.res.headers.set("x-d1-bookmark", bookmark);
  if (meter) for (const [name, value] of Object.entries(meterHeaders(meter))) c.res.headers.set(name, value);
};
