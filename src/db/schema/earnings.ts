/** (+) The tutors' earnings: money (cents), not credits, in its own append-only chain per tutor. */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { earningsSources, ledgerTypes } from "./enums";

export { type EarningsSource, earningsSources } from "./enums";

/**
 * The earnings statement of each tutor (`userId` is the tutor's user id), with the credit ledger's
 * guarantees: append-only, one chain per tutor (`seq` previous + 1, `balanceAfterCents` previous ±
 * amount, checked by a BEFORE INSERT trigger), never negative, one entry per idempotency key and at
 * most one `session_earning` per session.
 */
export const earningsLedger = sqliteTable(
  "earningsLedger",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    seq: integer("seq").notNull(),
    type: text("type", { enum: ledgerTypes }).notNull(),
    amountCents: integer("amountCents").notNull(),
    balanceAfterCents: integer("balanceAfterCents").notNull(),
    currency: text("currency").notNull(),
    source: text("source", { enum: earningsSources }).notNull(),
    sessionId: text("sessionId"),
    payoutId: text("payoutId"),
    description: text("description").notNull(),
    idempotencyKey: text("idempotencyKey").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("earningsLedger_by_user_and_seq").on(t.userId, t.seq),
    uniqueIndex("earningsLedger_by_idempotencyKey").on(t.idempotencyKey),
    uniqueIndex("earningsLedger_one_earning_per_session").on(t.sessionId).where(sql`${t.source} = 'session_earning'`),
    index("earningsLedger_by_payout").on(t.payoutId),
    /** A payout is debited once and reversed at most once (migration 0007). */
    uniqueIndex("earningsLedger_one_debit_per_payout").on(t.payoutId).where(sql`${t.source} = 'payout'`),
    uniqueIndex("earningsLedger_one_reversal_per_payout").on(t.payoutId).where(sql`${t.source} = 'payout_reversal'`),
    /** Reconciliation totals over a time range. */
    index("earningsLedger_by_createdAt").on(t.createdAt, t.source),
    check("earningsLedger_amount_positive", sql`${t.amountCents} > 0`),
    check("earningsLedger_balance_non_negative", sql`${t.balanceAfterCents} >= 0`),
    check("earningsLedger_seq_positive", sql`${t.seq} >= 1`),
    check("earningsLedger_type", sql`${t.type} IN ('credit', 'debit')`),
    check("earningsLedger_source", sql.raw(`"source" IN (${earningsSources.map((v) => `'${v}'`).join(", ")})`)),
    check(
      "earningsLedger_source_shape",
      sql`(${t.source} != 'session_earning' OR (${t.type} = 'credit' AND ${t.sessionId} IS NOT NULL))
        AND (${t.source} != 'payout' OR (${t.type} = 'debit' AND ${t.payoutId} IS NOT NULL))
        AND (${t.source} != 'payout_reversal' OR (${t.type} = 'credit' AND ${t.payoutId} IS NOT NULL))`,
    ),
  ],
);
