/**
 * What makes the OpenAPI document one that third-party tools (linters, validating proxies, client
 * generators) can trust beyond the routes' own schemas: the tag list with descriptions, derived
 * operation ids, and the headers every response carries. defineRoute (openapi.ts) applies them to
 * each route; app.ts registers the components and the tag list.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context";

/** Every tag a route may carry, with the description the document shows for it (the one list of them). */
export const apiTags = {
  Service: "Health, this document and its reference page.",
  Auth: "Sign in with a one-time e-mail code; refresh and revoke tokens.",
  Me: "The signed-in user: profile, preferences, data export and account closure.",
  Subjects: "The catalogue of subjects tutors teach.",
  Tutors: "The public tutor directory, profiles, avatars and bookable slots.",
  "Tutor profile": "A tutor's own profile, weekly availability, booking rules and time off.",
  Sessions: "Booking, rescheduling, cancelling and running lessons; no-shows and disputes.",
  Recordings: "Lesson audio uploads and their transcription.",
  Reports: "Lesson reports: generated from the transcript, reviewed by the tutor, published to the student.",
  Reviews: "Students' ratings of their tutors.",
  Credits: "Credit packs, checkout and the student's credit ledger.",
  Earnings: "A tutor's earnings ledger.",
  Payouts: "Tutor payout accounts (Stripe Connect) and payouts.",
  Calendar: "iCalendar feeds of a user's lessons.",
  Notifications: "In-app notifications.",
  Webhooks: "Callbacks from providers (Stripe, Deepgram), verified by their signatures.",
  "Outgoing webhooks":
    "Endpoints that receive the platform's events, signed the Standard Webhooks way, with their delivery logs (admins only). Each event type is under the document's top-level `webhooks`.",
  Admin: "The back office: users, tutors, sessions, orders, recordings, payouts, dead letters and the audit log.",
  Development: "Routes that exist only when ENVIRONMENT is development (the emulator and tests use them).",
} as const;

export type ApiTag = keyof typeof apiTags;

/**
 * `GET /v1/admin/sessions/{id}/ledger` → `getAdminSessionsByIdLedger`: derived from the method and
 * the path, so an id changes only when its path does, and two operations can never share one.
 */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split("/")
    .filter((s) => s && s !== "v1")
    // a parameter is "By" and its name, also inside a segment ("{token}.ics" → By Token Ics)
    .flatMap((s) => s.replace(/\{([^}]+)\}/g, " By $1 ").split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join("");
}

/**
 * The operation's description: what a caller needs before the first request and the summary does
 * not say: who may call it, and whether it honours `Idempotency-Key`.
 */
export function operationDescription(o: { guard?: string; idempotency?: string }): string {
  const who =
    o.guard === undefined
      ? "No bearer token: anyone may call it (a provider callback proves itself with its own signature)."
      : o.guard === "user"
        ? "Needs a bearer access token of any signed-in user."
        : `Needs a bearer access token of a user acting as ${o.guard === "admin" ? "an admin" : `a ${o.guard}`}.`;
  const retry = o.idempotency
    ? " Send an `Idempotency-Key` to make a retry safe: the same key and body return the first answer."
    : "";
  return who + retry;
}

/** Response headers, as component references (registered by registerDocumentComponents). */
export const headerRef = {
  requestId: { $ref: "#/components/headers/RequestId" },
  bookmark: { $ref: "#/components/headers/D1Bookmark" },
  retryAfter: { $ref: "#/components/headers/RetryAfter" },
  etag: { $ref: "#/components/headers/ETag" },
} as const;

/** The headers on every response of the API (see middleware.ts: requestId and services). */
export const commonResponseHeaders = { "x-request-id": headerRef.requestId, "x-d1-bookmark": headerRef.bookmark };

export function registerDocumentComponents(app: OpenAPIHono<AppEnv>) {
  const r = app.openAPIRegistry;
  r.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  r.registerComponent("headers", "RequestId", {
    description: "The request's id (the caller's `X-Request-Id` when it sent a valid one); quote it in bug reports.",
    schema: { type: "string" },
  });
  r.registerComponent("headers", "D1Bookmark", {
    description:
      "The database bookmark after this request; send it back as `X-D1-Bookmark` to read your own writes on a replica.",
    schema: { type: "string" },
  });
  r.registerComponent("headers", "RetryAfter", {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer", minimum: 0 },
  });
  r.registerComponent("headers", "ETag", {
    description: "The representation's entity tag, for `If-None-Match`.",
    schema: { type: "string" },
  });
}

/** The document's top-level tag list, in the order above. */
export const documentTags = Object.entries(apiTags).map(([name, description]) => ({ name, description }));
