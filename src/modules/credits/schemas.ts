import { disputeStatuses, ledgerSources, ledgerTypes, orderStatuses } from "../../db/schema";
import { queryInt, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { earningsEntrySchema } from "../earnings/schemas";
import { isValidTimeZone } from "../tutors/availability";

export const packSchema = z
  .object({ id: z.string(), credits: z.number().int(), priceCents: z.number().int(), currency: z.string() })
  .openapi("CreditPack");

export const checkoutBody = z.strictObject({ packId: z.string().min(1).max(100) }).openapi("CheckoutRequest");
export const checkoutResponse = z
  .object({ orderId: z.string(), checkoutSessionId: z.string(), checkoutUrl: z.string() })
  .openapi("CheckoutResponse");

export const orderSchema = z
  .object({
    id: z.string(),
    packId: z.string(),
    status: z.enum(orderStatuses),
    totalCredits: z.number().int(),
    totalCents: z.number().int(),
    currency: z.string(),
    checkoutSessionId: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    completedAt: z.number().int().nullable(),
    failedAt: z.number().int().nullable(),
    expiredAt: z.number().int().nullable(),
    paymentIntentId: z.string().nullable(),
    refundedCents: z.number().int(),
    reversedCredits: z.number().int(),
    disputeStatus: z.enum(disputeStatuses).nullable(),
  })
  .openapi("PurchaseOrder");

export const ledgerEntrySchema = z
  .object({
    id: z.string(),
    type: z.enum(ledgerTypes),
    amount: z.number().int(),
    balanceAfter: z.number().int(),
    source: z.enum(ledgerSources),
    purchaseOrderId: z.string().nullable(),
    sessionId: z.string().nullable(),
    description: z.string(),
    createdAt: z.number().int(),
  })
  .openapi("LedgerEntry");

export const adjustmentBody = z
  .strictObject({
    userId: z.string().min(1).max(100),
    type: z.enum(ledgerTypes),
    amount: z.number().int().positive().max(1_000_000),
    description: humanText({ min: 1, max: 500 }),
  })
  .openapi("AdjustmentRequest");

export const adjustmentResponse = ledgerEntrySchema
  .extend({
    /** The key this adjustment is recorded under: send it as `Idempotency-Key` to retry safely. */
    idempotencyKey: z.string(),
  })
  .openapi("AdjustmentResponse");

export const orderRefundBody = z
  .strictObject({ credits: z.number().int().positive().max(1_000_000) })
  .openapi("OrderRefundRequest");

const offending = z.array(z.string());
export const reconciliationSchema = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    credits: z.object({
      sold: z.number().int(),
      spentOnSessions: z.number().int(),
      heldInOpenSessions: z.number().int(),
      heldInDisputedSessions: z.number().int(),
      refundedToStudents: z.number().int(),
      /** Σ refundedCredits of the sessions settled in the range (their session_refund entries). */
      refundedBySettlements: z.number().int(),
      /** Σ earnedCredits of the sessions settled in the range. */
      earnedByTutors: z.number().int(),
      reversedByRefunds: z.number().int(),
      reversedByDisputes: z.number().int(),
      reinstated: z.number().int(),
      adjustedByAdmins: z.number().int(),
      netChange: z.number().int(),
    }),
    cents: z.object({
      paid: z.number().int(),
      refundedToCards: z.number().int(),
      /** Σ session_earning cents written in the range (the tutors' side of earnedByTutors). */
      earnedByTutors: z.number().int(),
      /** Net manual adjustments of tutors' earnings in the range. */
      earningsAdjustedByAdmins: z.number().int(),
      /** Σ amountCents of the payouts created in the range that are `paid` now. */
      paidOut: z.number().int(),
      /** Σ amountCents of the payouts created in the range that are still `pending`. */
      payoutsPending: z.number().int(),
      /** Σ amountCents of the payouts created in the range that are `failed` (their reversal returned it). */
      payoutsFailed: z.number().int(),
    }),
    identities: z.array(z.object({ name: z.string(), holds: z.boolean(), offendingIds: offending })),
    balanced: z.boolean(),
  })
  .openapi("Reconciliation");

/** `from` / `to` of the admin's money reports: ms since the epoch (time-range.ts has the defaults and limits). */
const epochMs = queryInt(0, 8.64e15);
export const rangeQuery = { from: epochMs.optional(), to: epochMs.optional() };

/** `GET /v1/admin/sessions/:id/ledger`: the entries of both ledgers that carry the session, oldest first. */
export const sessionLedgerSchema = z
  .object({
    /** The student's credit entries of the session (booking, refunds), each with its owner. */
    credits: z.array(ledgerEntrySchema.extend({ userId: z.string() }).openapi("AdminLedgerEntry")),
    /** The tutor's earnings entry of the session (at most one `session_earning`), with its owner. */
    earnings: z.array(earningsEntrySchema.extend({ userId: z.string() }).openapi("AdminEarningsEntry")),
  })
  .openapi("SessionLedger");

export const creditsSoldQuery = z.object({
  ...rangeQuery,
  timezone: z
    .string()
    .refine(isValidTimeZone, "Unknown IANA time zone")
    .default("UTC")
    .openapi({ example: "Europe/Paris", default: "UTC" }),
});

export const creditsSoldSchema = z
  .object({
    timezone: z.string(),
    from: z.number().int(),
    to: z.number().int(),
    /** Every calendar day (in `timezone`) the range touches, oldest first, zero days included. */
    days: z.array(
      z
        .object({
          date: z.string().openapi({ example: "2026-03-29" }),
          orders: z.number().int(),
          credits: z.number().int(),
        })
        .openapi("CreditsSoldDay"),
    ),
    totals: z.object({
      orders: z.number().int(),
      credits: z.number().int(),
      /** Gross cents paid, per currency (refunds not subtracted). */
      amounts: z.array(z.object({ currency: z.string(), cents: z.number().int() })),
    }),
  })
  .openapi("CreditsSold");

/** Response types, inferred from the schemas that document them (tests use these too). */
export type OrderView = z.infer<typeof orderSchema>;
export type LedgerEntryView = z.infer<typeof ledgerEntrySchema>;
export type AdjustmentView = z.infer<typeof adjustmentResponse>;
export type ReconciliationView = z.infer<typeof reconciliationSchema>;
export type SessionLedgerView = z.infer<typeof sessionLedgerSchema>;
export type CreditsSoldView = z.infer<typeof creditsSoldSchema>;
