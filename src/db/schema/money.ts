/** Purchases, the credit ledger, Stripe events and the refunds this platform asked for. */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import {
  cardRefundReasons,
  cardRefundStatuses,
  disputeStatuses,
  ledgerSources,
  ledgerTypes,
  orderStatuses,
} from "./enums";

export {
  cardRefundReasons,
  cardRefundStatuses,
  type DisputeStatus,
  disputeStatuses,
  type LedgerSource,
  type LedgerType,
  ledgerSources,
  ledgerTypes,
  type OrderStatus,
  orderStatuses,
} from "./enums";

export const creditPurchaseOrders = sqliteTable(
  "creditPurchaseOrders",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    packId: text("packId").notNull(),
    stripeCheckoutSessionId: text("stripeCheckoutSessionId"),
    stripePaymentIntentId: text("stripePaymentIntentId"),
    checkoutUrl: text("checkoutUrl"),
    totalCredits: integer("totalCredits").notNull(),
    totalCents: integer("totalCents").notNull(),
    currency: text("currency").notNull(),
    status: text("status", { enum: orderStatuses }).notNull(),
    completedAt: integer("completedAt"),
    failedAt: integer("failedAt"),
    expiredAt: integer("expiredAt"),
    /** Cents refunded to the card so far (the highest `amount_refunded` Stripe reported, or admin refunds). */
    refundedCents: integer("refundedCents").notNull().default(0),
    /** The highest `amount_refunded` Stripe reported for the charge: an undone admin refund never goes below it. */
    stripeRefundedCents: integer("stripeRefundedCents").notNull().default(0),
    /** Credits of this order currently reversed (refunds and an open or lost dispute). */
    reversedCredits: integer("reversedCredits").notNull().default(0),
    /** The part of `reversedCredits` a dispute took: reinstated if the dispute is won. */
    disputeReversedCredits: integer("disputeReversedCredits").notNull().default(0),
    disputeStatus: text("disputeStatus", { enum: disputeStatuses }),
    disputeId: text("disputeId"),
    /** When the recovery sweep last asked Stripe about this pending order (at most every 30 minutes). */
    recoveryCheckedAt: integer("recoveryCheckedAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    index("creditPurchaseOrders_by_user_and_createdAt").on(t.userId, t.createdAt, t.id),
    index("creditPurchaseOrders_by_checkoutSessionId").on(t.stripeCheckoutSessionId),
    index("creditPurchaseOrders_by_paymentIntent").on(t.stripePaymentIntentId),
    /** The recovery sweep's work list: pending orders by age. */
    index("creditPurchaseOrders_pending").on(t.createdAt, t.id).where(sql`${t.status} = 'pending'`),
    index("creditPurchaseOrders_by_completedAt").on(t.completedAt),
    check("creditPurchaseOrders_credits_positive", sql`${t.totalCredits} > 0`),
    check(
      "creditPurchaseOrders_reversed_within_credits",
      sql`${t.reversedCredits} >= 0 AND ${t.reversedCredits} <= ${t.totalCredits}`,
    ),
    check(
      "creditPurchaseOrders_dispute_within_reversed",
      sql`${t.disputeReversedCredits} >= 0 AND ${t.disputeReversedCredits} <= ${t.reversedCredits}`,
    ),
    check(
      "creditPurchaseOrders_refund_within_total",
      sql`${t.refundedCents} >= 0 AND ${t.refundedCents} <= ${t.totalCents} AND ${t.stripeRefundedCents} <= ${t.refundedCents}`,
    ),
  ],
);

/**
 * The credit statement. Append-only (triggers in the first migration abort UPDATE/DELETE), one chain
 * per user: `seq` is previous + 1 and `balanceAfter` is previous ± amount (a BEFORE INSERT trigger
 * checks both). Never negative, except that a `purchase_reversal` (a card refund or chargeback after
 * the credits were spent) may take it below zero; while negative only credits can follow.
 */
export const creditsLedger = sqliteTable(
  "creditsLedger",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    seq: integer("seq").notNull(),
    type: text("type", { enum: ledgerTypes }).notNull(),
    amount: integer("amount").notNull(),
    balanceAfter: integer("balanceAfter").notNull(),
    source: text("source", { enum: ledgerSources }).notNull(),
    purchaseOrderId: text("purchaseOrderId"),
    sessionId: text("sessionId"),
    description: text("description").notNull(),
    idempotencyKey: text("idempotencyKey").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("creditsLedger_by_user_and_seq").on(t.userId, t.seq),
    uniqueIndex("creditsLedger_by_idempotencyKey").on(t.idempotencyKey),
    index("creditsLedger_by_user_and_createdAt").on(t.userId, t.createdAt),
    index("creditsLedger_by_session").on(t.sessionId),
    index("creditsLedger_by_order").on(t.purchaseOrderId),
    /** Reconciliation totals over a time range. */
    index("creditsLedger_by_createdAt").on(t.createdAt, t.source),
    check("creditsLedger_amount_positive", sql`${t.amount} > 0`),
    check(
      "creditsLedger_balance_non_negative",
      sql`${t.balanceAfter} >= 0 OR ${t.type} = 'credit' OR ${t.source} = 'purchase_reversal'`,
    ),
    check("creditsLedger_seq_positive", sql`${t.seq} >= 1`),
    check("creditsLedger_type", sql`${t.type} IN ('credit', 'debit')`),
    check("creditsLedger_source", sql.raw(`"source" IN (${ledgerSources.map((v) => `'${v}'`).join(", ")})`)),
  ],
);

/** (+) Stripe events seen by the webhook (replays are recognised by id). */
export const stripeEvents = sqliteTable(
  "stripeEvents",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    checkoutSessionId: text("checkoutSessionId"),
    orderId: text("orderId"),
    receivedAt: integer("receivedAt").notNull(),
    /** Set by the job once the event's effect is durable (or it was found to need none): tests wait on it. */
    processedAt: integer("processedAt"),
    /** What processing did: `credited`, `reversed`, `nothing`, `refunded_late_payment`, `mismatch`, … */
    outcome: text("outcome"),
  },
  (t) => [index("stripeEvents_by_order").on(t.orderId)],
);

/** (+) Refunds this platform asked Stripe for (admin refunds, payments that arrived for settled orders). */
export const cardRefunds = sqliteTable(
  "cardRefunds",
  {
    id: text("id").primaryKey(),
    orderId: text("orderId").notNull(),
    /** Our Idempotency-Key for `POST /v1/refunds`: one refund per key, whatever the retries. */
    idempotencyKey: text("idempotencyKey").notNull(),
    amountCents: integer("amountCents").notNull(),
    credits: integer("credits").notNull(),
    reason: text("reason", { enum: cardRefundReasons }).notNull(),
    status: text("status", { enum: cardRefundStatuses }).notNull(),
    stripeRefundId: text("stripeRefundId"),
    failureReason: text("failureReason"),
    actorUserId: text("actorUserId"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("cardRefunds_by_idempotencyKey").on(t.idempotencyKey),
    index("cardRefunds_by_order").on(t.orderId, t.createdAt),
    index("cardRefunds_by_createdAt").on(t.createdAt),
    check("cardRefunds_amount_positive", sql`${t.amountCents} > 0 AND ${t.credits} >= 0`),
  ],
);
