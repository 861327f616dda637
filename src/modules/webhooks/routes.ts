import { readTextLimited } from "../../http/body";
import { createRouter, defineRoute, z } from "../../http/openapi";

/** Stripe events are small; anything bigger is not one. */
const STRIPE_WEBHOOK_MAX_BYTES = 1024 * 1024;

import { handleStripeWebhook } from "./stripe";

export const webhookRoutes = createRouter();

webhookRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/webhooks/stripe",
    summary: "Stripe events (signed by the platform or the Connect endpoint)",
    tags: ["Webhooks"],
    rawBody: { contentTypes: ["application/json"], description: "The Stripe event, verified with Stripe-Signature" },
    ok: {
      status: 200,
      description: "Acknowledged",
      schema: z.object({
        received: z.literal(true),
        action: z.enum(["enqueued", "applied", "ignored"]),
        reason: z.string().optional(),
      }),
    },
    errors: ["validation_failed", "payload_too_large", "provider_unavailable"],
  }),
  async (c) => {
    const raw = await readTextLimited(c.req.raw, STRIPE_WEBHOOK_MAX_BYTES);
    return c.json(await handleStripeWebhook(c.var.svc, raw, c.req.header("stripe-signature")), 200);
  },
);
