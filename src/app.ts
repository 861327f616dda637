/**
 * Builds the Hono app: middleware, modules, one error handler, the OpenAPI document and the docs page.
 */
import { Scalar } from "@scalar/hono-api-reference";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import pkg from "../package.json";
import { getConfig } from "./config";
import type { AppEnv } from "./http/context";
import { DomainError, problemResponse } from "./http/errors";
import { accessLog, requestId, securityHeaders, services } from "./http/middleware";
import { createRouter, defineRoute, z } from "./http/openapi";
import { adminRoutes } from "./modules/admin/routes";
import { authRoutes } from "./modules/auth/routes";
import { adminCreditRoutes } from "./modules/credits/admin-routes";
import { creditRoutes } from "./modules/credits/routes";
import { devRoutes } from "./modules/dev/routes";
import { notificationRoutes } from "./modules/notifications/routes";
import { recordingRoutes } from "./modules/recordings/routes";
import { sessionRoutes } from "./modules/sessions/routes";
import { subjectRoutes } from "./modules/subjects/routes";
import { tutorProfileRoutes } from "./modules/tutors/profile-routes";
import { tutorRoutes } from "./modules/tutors/routes";
import { userRoutes } from "./modules/users/routes";
import { webhookRoutes } from "./modules/webhooks/routes";

export const VERSION = pkg.version;

const modules = [
  authRoutes,
  userRoutes,
  creditRoutes,
  adminCreditRoutes,
  webhookRoutes,
  sessionRoutes,
  recordingRoutes,
  notificationRoutes,
  adminRoutes,
  devRoutes,
  subjectRoutes,
  tutorProfileRoutes,
  tutorRoutes,
];

function routePattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\{[^/]+?\\\}|:[^/]+/g, "[^/]+");
  return new RegExp(`^${escaped.replaceAll("\\{", "{")}$`);
}

export function createApp() {
  const app = createRouter();

  app.use("*", requestId(), accessLog(), securityHeaders());
  app.use(
    "*",
    cors({
      origin: (origin, c) => {
        const allowed = (c.env as AppEnv["Bindings"]).CORS_ORIGINS ?? "*";
        if (allowed.trim() === "*") return "*";
        return allowed
          .split(",")
          .map((o) => o.trim())
          .includes(origin)
          ? origin
          : null;
      },
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "X-D1-Bookmark"],
      exposeHeaders: ["X-Request-Id", "X-D1-Bookmark", "Retry-After"],
      maxAge: 600,
    }),
  );
  app.use("*", services());

  app.openapi(
    defineRoute({
      method: "get",
      path: "/v1/health",
      summary: "Liveness",
      tags: ["Service"],
      ok: { status: 200, description: "OK", schema: z.object({ ok: z.literal(true), version: z.string() }) },
    }),
    (c) => c.json({ ok: true as const, version: VERSION }, 200),
  );

  for (const m of modules) app.route("/", m);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/v1/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "tutorloop API",
      version: VERSION,
      description: "Online tutoring marketplace: credits, bookings, video rooms, transcripts and lesson reports.",
    },
    servers: [{ url: getConfig(c.env).PUBLIC_API_URL }],
  }));
  app.get("/v1/docs", async (c, next) => {
    await next();
    // The reference page loads its script from a CDN; relax the API's strict CSP for this page only.
    c.res.headers.set(
      "content-security-policy",
      "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https:; font-src https: data:; img-src 'self' data: https:; connect-src 'self'",
    );
    c.res.headers.set("cache-control", "public, max-age=300");
  });
  app.get("/v1/docs", Scalar({ url: "/v1/openapi.json", pageTitle: "tutorloop API" }));

  const known = () =>
    app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, re: routePattern(r.path) }));

  app.notFound((c) => {
    const allowed = [
      ...new Set(
        known()
          .filter((r) => r.re.test(c.req.path))
          .map((r) => r.method),
      ),
    ];
    if (allowed.length > 0) {
      return problemResponse(new DomainError("method_not_allowed", `Use ${allowed.join(", ")} on this path`), {
        allow: allowed.join(", "),
      });
    }
    return problemResponse(new DomainError("not_found", `No route for ${c.req.method} ${c.req.path}`));
  });

  app.onError((err, c) => {
    if (err instanceof DomainError) return problemResponse(err);
    if (err instanceof HTTPException) {
      if (err.status === 400) {
        return problemResponse(
          new DomainError("validation_failed", "The body is not valid JSON", [{ path: "", message: err.message }]),
        );
      }
      if (err.status === 413) return problemResponse(new DomainError("payload_too_large"));
      if (err.status === 401) return problemResponse(new DomainError("unauthorized"));
    }
    console.error(
      JSON.stringify({
        level: "error",
        msg: "unhandled error",
        requestId: c.get("requestId"),
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      }),
    );
    return problemResponse(new DomainError("internal", "Something went wrong; the request id identifies it"));
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
