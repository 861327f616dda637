/** Every message on the jobs queue, one zod schema per type; the consumer validates before acting. */
import { z } from "zod";

export const emailMessage = z.object({
  type: z.literal("email.send"),
  idempotencyKey: z.string().min(1).max(255),
  to: z.email(),
  subject: z.string().min(1),
  text: z.string(),
  html: z.string(),
});

export const fulfilOrderMessage = z.object({
  type: z.literal("stripe.fulfil"),
  orderId: z.string().min(1),
  eventId: z.string().min(1),
  /** What the Stripe event says happened to the order. */
  outcome: z.enum(["paid", "failed", "expired"]),
});

export const createRoomMessage = z.object({
  type: z.literal("video.create_room"),
  sessionId: z.string().min(1),
});

export const transcriptionRequestMessage = z.object({
  type: z.literal("transcription.request"),
  recordingId: z.string().min(1),
});

export const reportGenerateMessage = z.object({
  type: z.literal("report.generate"),
  recordingId: z.string().min(1),
});

export const queueMessage = z.discriminatedUnion("type", [
  emailMessage,
  fulfilOrderMessage,
  createRoomMessage,
  transcriptionRequestMessage,
  reportGenerateMessage,
]);

export type QueueMessage = z.infer<typeof queueMessage>;
export type EmailMessage = z.infer<typeof emailMessage>;
