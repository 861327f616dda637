/**
 * Every enumerated value of the data model, in one dependency-free module: the table files (and
 * through them the API's schemas) use these, and so does the back-office page (web/admin), whose
 * bundle must not pull in drizzle. Add a value here and every user of it sees it.
 */

export const userContexts = ["student", "tutor", "admin"] as const;
export type UserContext = (typeof userContexts)[number];
export const tutorStatuses = ["pending", "approved", "rejected", "suspended"] as const;
export type TutorStatus = (typeof tutorStatuses)[number];

export const sessionStatuses = ["scheduled", "in_progress", "completed", "cancelled"] as const;
export type SessionStatus = (typeof sessionStatuses)[number];
/**
 * Where a session's credits are: `open` (held), `disputed` (held, an admin decides), `settled` (the
 * tutor earned some or all of it) or `refunded` (all of it went back to the student).
 */
export const settlementStatuses = ["open", "disputed", "settled", "refunded"] as const;
export type SettlementStatus = (typeof settlementStatuses)[number];
export const cancelledByValues = ["student", "tutor", "admin", "system"] as const;
export type CancelledBy = (typeof cancelledByValues)[number];
export const noShowParties = ["student", "tutor"] as const;
export type NoShowParty = (typeof noShowParties)[number];
export const transcriptionStatuses = ["pending", "processing", "completed", "failed"] as const;
export type TranscriptionStatus = (typeof transcriptionStatuses)[number];

export const orderStatuses = ["pending", "completed", "failed", "expired"] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export const disputeStatuses = ["open", "won", "lost"] as const;
export type DisputeStatus = (typeof disputeStatuses)[number];
export const ledgerTypes = ["credit", "debit"] as const;
export const ledgerSources = [
  "purchase",
  "session_booking",
  "session_refund",
  "manual_adjustment",
  "purchase_reversal",
  "purchase_reinstated",
] as const;
export type LedgerType = (typeof ledgerTypes)[number];
export type LedgerSource = (typeof ledgerSources)[number];
export const cardRefundReasons = ["admin", "late_payment"] as const;
export const cardRefundStatuses = ["pending", "succeeded", "failed"] as const;

export const earningsSources = ["session_earning", "payout", "payout_reversal", "manual_adjustment"] as const;
export type EarningsSource = (typeof earningsSources)[number];
export const payoutStatuses = ["pending", "paid", "failed"] as const;
export type PayoutStatus = (typeof payoutStatuses)[number];
export const payoutRunTriggers = ["admin", "cron"] as const;
export type PayoutRunTrigger = (typeof payoutRunTriggers)[number];

export const reportStatuses = ["draft", "published"] as const;
export type ReportStatus = (typeof reportStatuses)[number];
/** Who wrote a version: the model, or a person editing the draft. */
export const reportVersionSources = ["model", "tutor", "admin"] as const;
export type ReportVersionSource = (typeof reportVersionSources)[number];

/**
 * The outgoing webhooks' event types (the API's "Outgoing webhooks"): names are part of the API —
 * integrators subscribe to them — so add new ones, never rename one.
 */
export const webhookEventTypes = [
  "session.booked",
  "session.rescheduled",
  "session.cancelled",
  "session.completed",
  "session.no_show",
  "session.disputed",
  "session.settled",
  "credits.purchased",
  "credits.reversed",
  "report.published",
  "review.created",
  "tutor.status_changed",
  "payout.paid",
  "payout.failed",
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
/** `pending` (an attempt is due or running), `delivered` (a 2xx came back), `failed` (the schedule ran out). */
export const webhookDeliveryStatuses = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];
