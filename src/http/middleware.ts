/** Cross-cutting middleware: request id, JSON access log, security headers, D1 session. */
import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config";
import { openSession } from "../db/client";
import { loadClock } from "../lib/clock";
import type { AppEnv } from "./context";

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

export const securityHeaders = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  await next();
  const h = c.res.headers;
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

/** Parses config (once per env) and opens the request's D1 session; returns its bookmark. */
export const services = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const config = getConfig(c.env);
  const handle = openSession(c.env.DB, c.req.header("x-d1-bookmark"));
  c.set("dbHandle", handle);
  // The test clock's offset is read from the primary (not the session): a clock move must be seen at once.
  const clock = await loadClock(c.env.DB, config);
  c.set("svc", {
    env: c.env,
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
};
