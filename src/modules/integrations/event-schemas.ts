/**
 * The OpenAPI document's top-level `webhooks`: one entry per event type, the request the platform
 * sends (Standard Webhooks headers, `{ type, timestamp, data }` with `data` in the same schema the
 * API's own routes use for that object) and what the receiver should answer.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { webhookEventTypes } from "../../db/schema";
import type { AppEnv } from "../../http/context";
import { z } from "../../http/openapi";
import { orderSchema } from "../credits/schemas";
import { adminPayoutSchema } from "../payouts/schemas";
import { reportSchema } from "../recordings/schemas";
import { reviewSchema } from "../reviews/schemas";
import { sessionSchema } from "../sessions/schemas";
import { adminTutorSchema } from "../tutors/admin-schemas";
import { EVENT_OBJECTS, type ObjectKind } from "./outbox";

const dataSchemas: Record<ObjectKind, z.ZodType> = {
  session: sessionSchema,
  order: orderSchema.extend({ userId: z.string() }).openapi("WebhookOrder"),
  report: reportSchema,
  review: reviewSchema,
  tutor: adminTutorSchema,
  payout: adminPayoutSchema,
};

const summaries: Record<(typeof webhookEventTypes)[number], string> = {
  "session.booked": "A session was booked (alone or as an occurrence of a weekly series)",
  "session.rescheduled": "A session moved to a new time",
  "session.cancelled": "A session was cancelled (by a participant, an admin, or because it was not held)",
  "session.completed": "A session was marked completed",
  "session.no_show": "A no-show was reported for a session",
  "session.disputed": "A student disputed a completed session",
  "session.settled": "A session's credits were settled: earned by the tutor, refunded, or split",
  "credits.purchased": "A credit order was paid and its credits added",
  "credits.reversed": "Credits of an order were taken back (a card refund or a dispute)",
  "report.published": "A lesson report was published to its student",
  "review.created": "A student reviewed a session",
  "tutor.status_changed": "A tutor was approved, rejected or suspended",
  "payout.paid": "A tutor's payout was transferred",
  "payout.failed": "A tutor's payout failed; its amount is back in the tutor's earnings",
};

const headers = z.object({
  "webhook-id": z.string().openapi({ description: "The event's id: the same on every retry (deduplicate on it)" }),
  "webhook-timestamp": z.string().openapi({ description: "Unix seconds of this attempt" }),
  "webhook-signature": z.string().openapi({
    description:
      'Space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the base64-decoded secret after `whsec_` (two while a rotated-out secret is in its 24-hour grace period)',
  }),
});

export function registerWebhookDocs(app: OpenAPIHono<AppEnv>) {
  for (const type of webhookEventTypes) {
    const body = z
      .object({
        type: z.literal(type),
        timestamp: z.string().openapi({ description: "When the change happened (ISO 8601)", format: "date-time" }),
        data: dataSchemas[EVENT_OBJECTS[type]],
      })
      .openapi(`WebhookEvent_${type.replace(/[^a-z]+(.)/g, (_m, c: string) => c.toUpperCase())}`);
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      summary: summaries[type],
      description:
        "Delivered at least once to every enabled endpoint subscribed to the type; a 2xx within 10 s acknowledges it, anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h. Verify the signature before trusting the body (the SDK's verifyWebhook).",
      operationId: `webhook${type.replace(/(^|[^a-z])([a-z])/g, (_m, _p, c: string) => c.toUpperCase())}`,
      tags: ["Outgoing webhooks"],
      security: [],
      request: { headers, body: { required: true, content: { "application/json": { schema: body } } } },
      responses: {
        200: { description: "Any 2xx acknowledges the event" },
        400: { description: "Refused (e.g. a bad signature): retried on the schedule" },
      },
    });
  }
}
