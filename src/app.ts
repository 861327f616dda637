/**
 * Builds the Hono app: middleware, modules, one error handler, the OpenAPI document and the docs page.
 */
import { HTTPException } from "hono/http-exception";
import pkg from "../package.json";
import { getConfig } from "./config";
import { DomainError, type ErrorCode, problemResponse } from "./http/errors";
import {
  accessLog,
  configured,
  corsPolicy,
  DOCS_PAGE_CSP,
  requestId,
  securityHeaders,
  services,
} from "./http/middleware";
import { createRouter, defineRoute, z } from "./http/openapi";
import { documentTags, registerDocumentComponents } from "./http/openapi-document";
import { documentRateLimits, rateLimits } from "./http/rate-limit";
import { adminRoutes } from "./modules/admin/routes";
import { authRoutes } from "./modules/auth/routes";
import { calendarRoutes } from "./modules/calendar/routes";
import { adminCreditRoutes } from "./modules/credits/admin-routes";
import { creditRoutes } from "./modules/credits/routes";
import { devRoutes } from "./modules/dev/routes";
import { earningsRoutes } from "./modules/earnings/routes";
import { registerWebhookDocs } from "./modules/integrations/event-schemas";
import { integrationRoutes } from "./modules/integrations/routes";
import { notificationRoutes } from "./modules/notifications/routes";
import { payoutRoutes } from "./modules/payouts/routes";
import { recordingRoutes } from "./modules/recordings/routes";
import { reviewRoutes } from "./modules/reviews/routes";
import { sessionRoutes } from "./modules/sessions/routes";
import { subjectRoutes } from "./modules/subjects/routes";
import { adminTutorRoutes } from "./modules/tutors/admin-routes";
import { tutorProfileRoutes } from "./modules/tutors/profile-routes";
import { tutorRoutes } from "./modules/tutors/routes";
import { schedulingRoutes } from "./modules/tutors/scheduling-routes";
import { userRoutes } from "./modules/users/routes";
import { webhookRoutes } from "./modules/webhooks/routes";

export const VERSION = pkg.version;

/** Framework HTTPException statuses and the domain codes they stand for (anything else 4xx: 400). */
const httpExceptionCodes: Record<number, ErrorCode> = {
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

const modules = [
  authRoutes,
  userRoutes,
  creditRoutes,
  earningsRoutes,
  payoutRoutes,
  adminCreditRoutes,
  webhookRoutes,
  sessionRoutes,
  recordingRoutes,
  reviewRoutes,
  notificationRoutes,
  adminRoutes,
  adminTutorRoutes,
  integrationRoutes,
  devRoutes,
  subjectRoutes,
  tutorProfileRoutes,
  schedulingRoutes,
  tutorRoutes,
  calendarRoutes,
];

/**
 * The interactive API reference. Its script is a static asset of this Worker (public/api-reference/:
 * the @scalar/api-reference standalone bundle and the few lines that mount it on `#app`), so the
 * page works offline and its CSP allows nothing but this origin.
 */
const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>tutorloop API</title>
  </head>
  <body>
    <noscript>The API reference needs JavaScript. The OpenAPI document is at <a href="/v1/openapi.json">/v1/openapi.json</a>.</noscript>
    <div id="app" data-openapi-url="/v1/openapi.json"></div>
    <script src="/api-reference/standalone.js"></script>
    <script src="/api-reference/init.js"></script>
  </body>
</html>
`;

function routePattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\{[^/]+?\\\}|:[^/]+/g, "[^/]+");
  return new RegExp(`^${escaped.replaceAll("\\{", "{")}$`);
}

export function createApp() {
  const app = createRouter();

  app.use("*", requestId(), accessLog(), securityHeaders(), configured(), corsPolicy());
  app.use("*", services(), rateLimits());

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
  documentRateLimits(app);

  registerDocumentComponents(app);
  registerWebhookDocs(app);
  app.doc31("/v1/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "tutorloop API",
      version: VERSION,
      description: "Online tutoring marketplace: credits, bookings, video rooms, transcripts and lesson reports.",
    },
    servers: [{ url: getConfig(c.env).PUBLIC_API_URL }],
    tags: documentTags,
  }));
  app.get("/v1/docs", (c) => {
    c.header("content-security-policy", DOCS_PAGE_CSP);
    c.header("cache-control", "public, max-age=300");
    return c.html(DOCS_PAGE);
  });

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
    if (err instanceof HTTPException && err.status >= 400 && err.status < 500) {
      // The framework's own 4xx (malformed JSON, its media-type gate, …) become their problem+json twins.
      if (err.status === 400) {
        return problemResponse(
          new DomainError("validation_failed", "The body is not valid JSON", [{ path: "", message: err.message }]),
        );
      }
      return problemResponse(new DomainError(httpExceptionCodes[err.status] ?? "validation_failed"));
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
