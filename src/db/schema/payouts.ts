/** (+) Paying tutors: their Stripe Connect accounts, the payout runs and each payout (a Transfer). */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { payoutRunTriggers, payoutStatuses } from "./enums";

export { type PayoutRunTrigger, type PayoutStatus, payoutRunTriggers, payoutStatuses } from "./enums";

const inList = (column: string, values: readonly string[]) =>
  sql.raw(`"${column}" IN (${values.map((v) => `'${v}'`).join(", ")})`);

/**
 * One Stripe Connect Express account per tutor (`userId` is the tutor's user id). `payoutsEnabled`
 * and `detailsSubmitted` mirror Stripe's `account.updated` events; `stateAsOf` is the `created` time
 * (ms) of the event they came from, so an older event delivered late never overwrites a newer one.
 */
export const payoutAccounts = sqliteTable(
  "payoutAccounts",
  {
    userId: text("userId").primaryKey(),
    stripeAccountId: text("stripeAccountId").notNull(),
    payoutsEnabled: integer("payoutsEnabled", { mode: "boolean" }).notNull().default(false),
    detailsSubmitted: integer("detailsSubmitted", { mode: "boolean" }).notNull().default(false),
    stateAsOf: integer("stateAsOf").notNull().default(0),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("payoutAccounts_by_stripeAccountId").on(t.stripeAccountId),
    /** The payout run's candidates: enabled accounts in user-id order (keyset). */
    index("payoutAccounts_enabled_by_user").on(t.userId).where(sql`${t.payoutsEnabled} = 1`),
  ],
);

/**
 * A payout run: the admin's `POST /v1/admin/payouts/run` or the daily cron. The cron writes at most
 * one run per UTC day (`cronDay` is unique), so the five-minute trigger pays once a day.
 */
export const payoutRuns = sqliteTable(
  "payoutRuns",
  {
    id: text("id").primaryKey(),
    trigger: text("trigger", { enum: payoutRunTriggers }).notNull(),
    actorUserId: text("actorUserId"),
    /** `YYYY-MM-DD` (UTC) of a cron run; null for an admin's. */
    cronDay: text("cronDay"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("payoutRuns_one_cron_run_per_day").on(t.cronDay),
    index("payoutRuns_by_createdAt").on(t.createdAt),
    check("payoutRuns_trigger", inList("trigger", payoutRunTriggers)),
    check(
      "payoutRuns_trigger_shape",
      sql`(${t.trigger} = 'cron') = (${t.cronDay} IS NOT NULL) AND (${t.trigger} != 'admin' OR ${t.actorUserId} IS NOT NULL)`,
    ),
  ],
);

/**
 * One payout of a tutor's whole available balance: written `pending` in the same batch as its
 * `payout` debit (migration 0007 triggers bind the two), `paid` once Stripe made the Transfer,
 * `failed` (final) with exactly one `payout_reversal` credit when Stripe refused or reversed it.
 * At most one payout per tutor is pending, and one per tutor per run.
 */
export const payouts = sqliteTable(
  "payouts",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    runId: text("runId").notNull(),
    amountCents: integer("amountCents").notNull(),
    currency: text("currency").notNull(),
    /** The destination the Transfer goes to, fixed when the payout is written. */
    stripeAccountId: text("stripeAccountId").notNull(),
    status: text("status", { enum: payoutStatuses }).notNull(),
    stripeTransferId: text("stripeTransferId"),
    failureReason: text("failureReason"),
    /** When a transfer job first asked Stripe; a pending payout never attempted is re-enqueued by the cron. */
    attemptedAt: integer("attemptedAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("payouts_one_per_run_and_user").on(t.runId, t.userId),
    uniqueIndex("payouts_one_pending_per_user").on(t.userId).where(sql`${t.status} = 'pending'`),
    uniqueIndex("payouts_by_stripeTransferId").on(t.stripeTransferId),
    /** A tutor's payouts, newest first. */
    index("payouts_by_user_and_time").on(t.userId, t.createdAt, t.id),
    /** The admin list by status, newest first; and unfiltered. */
    index("payouts_by_status_and_time").on(t.status, t.createdAt, t.id),
    index("payouts_by_time").on(t.createdAt, t.id),
    /** The cron's safety net: pending payouts whose transfer job was lost before it ran. */
    index("payouts_unattempted_by_time")
      .on(t.createdAt)
      .where(sql`${t.status} = 'pending' AND ${t.attemptedAt} IS NULL`),
    check("payouts_amount_positive", sql`${t.amountCents} > 0`),
    check("payouts_status", inList("status", payoutStatuses)),
    check(
      "payouts_status_shape",
      sql`(${t.status} != 'paid' OR ${t.stripeTransferId} IS NOT NULL) AND (${t.status} != 'failed' OR ${t.failureReason} IS NOT NULL)`,
    ),
  ],
);
