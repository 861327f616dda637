/** Request and response shapes of the outgoing-webhook admin routes. */
import { webhookDeliveryStatuses, webhookEventTypes } from "../../db/schema";
import { idParamsOf, pageOf, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { MAX_URL_LENGTH } from "./target";

const eventList = z
  .array(z.enum([...webhookEventTypes, "*"]))
  .min(1)
  .max(webhookEventTypes.length)
  .refine((e) => new Set(e).size === e.length, "Each event type once")
  .refine((e) => !e.includes("*") || e.length === 1, '"*" (every event) stands alone')
  .openapi({ description: 'Event types to receive, or `["*"]` for every type (also those added later)' });

const url = z.string().min(1).max(MAX_URL_LENGTH).openapi({ example: "https://hooks.example.com/tutorloop" });
const description = humanText({ max: 500 }).openapi({ description: "What the endpoint is for (shown to admins)" });

export const createEndpointBody = z
  .object({ url, events: eventList, description: description.optional() })
  .strict()
  .openapi("WebhookEndpointCreate");

export const updateEndpointBody = z
  .object({ url, events: eventList, description: description.nullable(), enabled: z.boolean() })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, "Send at least one of url, events, description, enabled")
  .openapi("WebhookEndpointUpdate");

export const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabledAt: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "When it was disabled (by an admin, or after 5 days of failed deliveries)" }),
    failingSince: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The first failed attempt since the last delivered one; null while healthy" }),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("WebhookEndpoint");

const secret = z.string().openapi({
  description: "The signing secret (`whsec_` + base64). Shown only here: store it now.",
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
});

export const createdEndpointSchema = endpointSchema.extend({ secret }).openapi("WebhookEndpointWithSecret");
export const rotatedSecretSchema = z
  .object({
    secret,
    previousSecretExpiresAt: z
      .number()
      .int()
      .openapi({ description: "Until when deliveries are also signed with the previous secret" }),
  })
  .openapi("WebhookSecret");

export const deliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string().openapi({ description: "The event's id: the `webhook-id` header of every attempt" }),
    eventType: z.enum(webhookEventTypes),
    status: z.enum(webhookDeliveryStatuses),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastResponseBody: z.string().nullable().openapi({ description: "The last answer's body, at most 1 KiB" }),
    nextAttemptAt: z.number().int().nullable(),
    deliveredAt: z.number().int().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("WebhookDelivery");

export const endpointPage = pageOf(endpointSchema);
export const deliveryPage = pageOf(deliverySchema);
export const endpointIdParams = idParamsOf("whe");
export const deliveryIdParams = idParamsOf("whd");

export type CreateEndpointInput = z.infer<typeof createEndpointBody>;
export type UpdateEndpointInput = z.infer<typeof updateEndpointBody>;
