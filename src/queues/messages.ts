/** Every message on the jobs queue, one zod schema per type; the consumer validates before acting. */
import { z } from "zod";
import { disputeStatuses } from "../db/schema";

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

/** A charge-level Stripe event (refund or dispute), found by its payment intent. */
export const chargeEventMessage = z.object({
  type: z.literal("stripe.charge"),
  eventId: z.string().min(1),
  paymentIntent: z.string().min(1),
  kind: z.enum(["refund", "dispute"]),
  /** The charge's amount (cents): the base of the refunded share. */
  amount: z.number().int().positive(),
  /** refund: the charge's cumulative `amount_refunded`. */
  amountRefunded: z.number().int().min(0).optional(),
  /** dispute: its id and what the event says (`open` when created, `won` / `lost` when closed). */
  disputeId: z.string().min(1).optional(),
  disputeStatus: z.enum(disputeStatuses).optional(),
});

/** A payment that arrived for an order already `failed` / `expired`: refund it to the card. */
export const refundPaymentMessage = z.object({
  type: z.literal("stripe.refund_payment"),
  orderId: z.string().min(1),
  paymentIntent: z.string().min(1),
  amountCents: z.number().int().positive(),
  eventId: z.string().min(1),
});

/** A payout's Stripe Transfer (payments queue); the payout id is the Idempotency-Key. */
export const transferPayoutMessage = z.object({
  type: z.literal("stripe.transfer"),
  payoutId: z.string().min(1).max(64),
});

/** The rest of a payout run: the next slice of candidate tutors after `after` (a user id). */
export const payoutRunMessage = z.object({
  type: z.literal("payouts.run"),
  runId: z.string().min(1).max(64),
  after: z.string().max(64),
  /** A slice run again because some of its tutors failed (bounded). */
  round: z.number().int().min(0).max(10).optional(),
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

/** A tutor's (or an admin's) regeneration of a report draft, holding the report's generation slot. */
export const reportRegenerateMessage = z.object({
  type: z.literal("report.regenerate"),
  reportId: z.string().min(1),
  generationId: z.string().min(1).max(64),
  instructions: z.string().max(500).optional(),
});

/** A closed account's files in R2 (avatar, lesson audio), when deleting them inline failed: retried. */
export const eraseAccountFilesMessage = z.object({
  type: z.literal("account.erase_files"),
  userId: z.string().min(1),
});

/** The lifecycle sweeps (modules/sessions/sweeps.ts). */
export const sessionSweeps = ["auto_complete", "not_held", "settle_held", "settle_cancelled"] as const;

const sweepCursor = z.object({ endTime: z.number().int(), id: z.string().max(64) });

/**
 * A lifecycle sweep's backlog, by keyset cursor (endTime, id): with `until`, a leaf (one batch of the
 * due rows in (after, until]); without, a chain message (slices the next window into leaves).
 */
export const sessionSweepMessage = z.object({
  type: z.literal("sessions.sweep"),
  sweep: z.enum(sessionSweeps),
  after: sweepCursor,
  until: sweepCursor.optional(),
  /** Rows per batch (default SWEEP_BATCH); tests and the bench set it. */
  limit: z.number().int().min(1).max(100).optional(),
});

/** Outgoing webhooks (their own queue): fan out the outbox's backlog; one attempt of one delivery. */
export const webhookDispatchMessage = z.object({ type: z.literal("webhooks.dispatch") });
export const webhookDeliverMessage = z.object({
  type: z.literal("webhooks.deliver"),
  deliveryId: z.string().min(1).max(200),
});

export const queueMessage = z.discriminatedUnion("type", [
  emailMessage,
  fulfilOrderMessage,
  chargeEventMessage,
  refundPaymentMessage,
  transferPayoutMessage,
  payoutRunMessage,
  createRoomMessage,
  transcriptionRequestMessage,
  reportGenerateMessage,
  reportRegenerateMessage,
  eraseAccountFilesMessage,
  sessionSweepMessage,
  webhookDispatchMessage,
  webhookDeliverMessage,
]);

export type QueueMessage = z.infer<typeof queueMessage>;
export type EmailMessage = z.infer<typeof emailMessage>;
