/**
 * `GET /v1/admin/reconciliation`: where the credits and cents went over a time range, and whether the
 * money identities hold (with the offending ids when one does not):
 * - every order completed in the range has exactly one `purchase` entry of its credits;
 * - every order's `reversedCredits` = Σ purchase_reversal − Σ purchase_reinstated of that order;
 * - every session that started or settled in the range has one `session_booking` debit of its cost,
 *   splits as creditsCost = refundedCredits + earnedCredits + held (held = cost while open or
 *   disputed, else 0), and has exactly the entries of its split: one `session_refund` of
 *   refundedCredits when > 0 (none otherwise) and one `session_earning` of tutorEarningsCents when
 *   earnedCredits > 0 (none otherwise);
 * - every tutor active in the range (an earnings entry or a payout created in it) has a chain whose
 *   last balance equals the sum of its signed amounts, AND a last balance equal to Σ session_earning
 *   ± Σ manual_adjustment − Σ amountCents of the tutor's payouts that are not failed (the payouts
 *   table cross-checked against the ledger);
 * - every payout whose money moved in the range has exactly one `payout` debit of its amount, and
 *   one `payout_reversal` of its amount exactly when it is failed.
 * Totals: held is over sessions that start in the range (open / disputed), refunded and earned are
 * over the sessions settled in the range (`settledAt`) and over the entries created in it; paidOut,
 * payoutsPending and payoutsFailed are over the payouts created in the range, by their status now
 * (earnings-reconciliation.ts says why).
 *
 * Cost: every query is an index search bounded by the range (LIMIT 20 offending ids each), except
 * the tutor identities, which re-add the whole chain and payouts of each tutor active in the range
 * (one search on earningsLedger_by_user_and_seq and one on payouts_by_user_and_time per tutor; rows
 * read = those tutors' entries and payouts, all time).
 */
import type { ServiceContext } from "../../context";
import {
  payoutEntryOffenders,
  payoutTotals,
  tutorBalanceOffenders,
  tutorChainOffenders,
} from "./earnings-reconciliation";
import { type RangeQuery, reportRange } from "./time-range";

const OFFENDERS = 20;

type Totals = { source: string; type: string; total: number }[];

const sum = (rows: Totals, source: string, type?: string) =>
  rows.filter((r) => r.source === source && (!type || r.type === type)).reduce((a, r) => a + r.total, 0);

export async function reconcile(svc: ServiceContext, q: RangeQuery) {
  const { from, to } = reportRange(svc, q);
  const d1 = svc.d1;
  const [
    ledger,
    held,
    settled,
    earnings,
    paid,
    cards,
    purchases,
    reversals,
    splits,
    chains,
    balances,
    payoutLines,
    payouts,
  ] = await d1.batch([
    d1
      .prepare(
        "SELECT source, type, SUM(amount) AS total FROM creditsLedger WHERE createdAt >= ? AND createdAt < ? GROUP BY source, type",
      )
      .bind(from, to),
    // (sessions_by_settlement_and_time) what the sessions starting in the range still hold
    d1
      .prepare(
        "SELECT settlementStatus, COALESCE(SUM(creditsCost), 0) AS total FROM sessions WHERE settlementStatus IN ('open', 'disputed') AND startTime >= ? AND startTime < ? GROUP BY settlementStatus",
      )
      .bind(from, to),
    // (sessions_by_settledAt) how the sessions settled in the range were split
    d1
      .prepare(
        "SELECT COALESCE(SUM(refundedCredits), 0) AS refunded, COALESCE(SUM(earnedCredits), 0) AS earned FROM sessions WHERE settledAt >= ? AND settledAt < ?",
      )
      .bind(from, to),
    // (earningsLedger_by_createdAt) the earnings entries of the range
    d1
      .prepare(
        "SELECT source, type, SUM(amountCents) AS total FROM earningsLedger WHERE createdAt >= ? AND createdAt < ? GROUP BY source, type",
      )
      .bind(from, to),
    d1
      .prepare(
        "SELECT COALESCE(SUM(totalCents), 0) AS total FROM creditPurchaseOrders WHERE completedAt >= ? AND completedAt < ?",
      )
      .bind(from, to),
    d1
      .prepare(
        "SELECT COALESCE(SUM(amountCents), 0) AS total FROM cardRefunds WHERE createdAt >= ? AND createdAt < ? AND status = 'succeeded'",
      )
      .bind(from, to),
    d1
      .prepare(
        `SELECT o.id FROM creditPurchaseOrders o WHERE o.completedAt >= ? AND o.completedAt < ?
AND NOT EXISTS (SELECT 1 FROM creditsLedger l WHERE l.idempotencyKey = 'purchase:' || o.id AND l.amount = o.totalCredits AND l.source = 'purchase')
LIMIT ?`,
      )
      .bind(from, to, OFFENDERS),
    d1
      .prepare(
        `SELECT o.id FROM creditPurchaseOrders o WHERE o.completedAt >= ? AND o.completedAt < ?
AND o.reversedCredits != (SELECT COALESCE(SUM(CASE l.source WHEN 'purchase_reversal' THEN l.amount WHEN 'purchase_reinstated' THEN -l.amount ELSE 0 END), 0)
  FROM creditsLedger l WHERE l.purchaseOrderId = o.id)
LIMIT ?`,
      )
      .bind(from, to, OFFENDERS),
    sessionSplitOffenders(d1, from, to),
    tutorChainOffenders(d1, from, to, OFFENDERS),
    tutorBalanceOffenders(d1, from, to, OFFENDERS),
    payoutEntryOffenders(d1, from, to, OFFENDERS),
    payoutTotals(d1, from, to),
  ]);
  const rows = (ledger?.results ?? []) as Totals;
  const heldRows = (held?.results ?? []) as { settlementStatus: string; total: number }[];
  const heldIn = (status: string) => heldRows.find((h) => h.settlementStatus === status)?.total ?? 0;
  const split = (settled?.results?.[0] ?? { refunded: 0, earned: 0 }) as { refunded: number; earned: number };
  const cents = (earnings?.results ?? []) as Totals;
  const payoutRows = (payouts?.results ?? []) as { status: string; total: number }[];
  const payoutsIn = (status: string) => payoutRows.find((p) => p.status === status)?.total ?? 0;
  const ids = (r: D1Result | undefined) => ((r?.results ?? []) as { id: string }[]).map((x) => x.id);
  const reversal = sum(rows, "purchase_reversal");
  const byDisputes = await disputeReversals(svc, from, to);
  const credits = {
    sold: sum(rows, "purchase"),
    spentOnSessions: sum(rows, "session_booking"),
    heldInOpenSessions: heldIn("open"),
    heldInDisputedSessions: heldIn("disputed"),
    refundedToStudents: sum(rows, "session_refund"),
    refundedBySettlements: split.refunded,
    earnedByTutors: split.earned,
    reversedByRefunds: reversal - byDisputes,
    reversedByDisputes: byDisputes,
    reinstated: sum(rows, "purchase_reinstated"),
    adjustedByAdmins: sum(rows, "manual_adjustment", "credit") - sum(rows, "manual_adjustment", "debit"),
    netChange: rows.reduce((a, r) => a + (r.type === "credit" ? r.total : -r.total), 0),
  };
  const identities = [
    { name: "one purchase entry of its credits per completed order", offendingIds: ids(purchases) },
    { name: "order reversedCredits = reversals - reinstatements", offendingIds: ids(reversals) },
    {
      name: "session creditsCost = refunded + earned + held (one booking; one refund of refundedCredits, one earning of tutorEarningsCents, each iff > 0)",
      offendingIds: ids(splits),
    },
    { name: "tutor earnings balance = Σ earnings credits − Σ debits (the chain adds up)", offendingIds: ids(chains) },
    {
      name: "tutor earnings balance = Σ session earnings ± Σ manual adjustments − Σ payouts not failed",
      offendingIds: ids(balances),
    },
    {
      name: "payout: exactly one payout debit of its amount, and one payout_reversal of its amount iff failed",
      offendingIds: ids(payoutLines),
    },
  ].map((i) => ({ ...i, holds: i.offendingIds.length === 0 }));
  return {
    from,
    to,
    credits,
    cents: {
      paid: (paid?.results?.[0] as { total: number } | undefined)?.total ?? 0,
      refundedToCards: (cards?.results?.[0] as { total: number } | undefined)?.total ?? 0,
      earnedByTutors: sum(cents, "session_earning"),
      earningsAdjustedByAdmins: sum(cents, "manual_adjustment", "credit") - sum(cents, "manual_adjustment", "debit"),
      paidOut: payoutsIn("paid"),
      payoutsPending: payoutsIn("pending"),
      payoutsFailed: payoutsIn("failed"),
    },
    identities,
    balanced: identities.every((i) => i.holds),
  };
}

/**
 * Sessions that started or settled in the range (sessions_by_time ∪ sessions_by_settledAt) whose
 * booking, split or settlement entries disagree; each entry is found by its unique key.
 */
function sessionSplitOffenders(d1: ServiceContext["d1"], from: number, to: number) {
  return d1
    .prepare(
      `SELECT s.id FROM sessions s WHERE s.id IN (
  SELECT id FROM sessions WHERE startTime >= ? AND startTime < ?
  UNION SELECT id FROM sessions WHERE settledAt >= ? AND settledAt < ?)
AND (NOT EXISTS (SELECT 1 FROM creditsLedger l WHERE l.idempotencyKey = 'booking:' || s.id AND l.amount = s.creditsCost AND l.source = 'session_booking')
  OR s.creditsCost != s.refundedCredits + s.earnedCredits + CASE WHEN s.settlementStatus IN ('open', 'disputed') THEN s.creditsCost ELSE 0 END
  OR COALESCE((SELECT l.amount FROM creditsLedger l WHERE l.idempotencyKey = 'refund:' || s.id AND l.source = 'session_refund'), 0) != s.refundedCredits
  OR (s.refundedCredits = 0 AND EXISTS (SELECT 1 FROM creditsLedger l WHERE l.idempotencyKey = 'refund:' || s.id))
  OR COALESCE((SELECT e.amountCents FROM earningsLedger e WHERE e.idempotencyKey = 'earning:' || s.id AND e.source = 'session_earning'), 0) != CASE WHEN s.earnedCredits > 0 THEN s.tutorEarningsCents ELSE 0 END
  OR (s.earnedCredits = 0 AND EXISTS (SELECT 1 FROM earningsLedger e WHERE e.sessionId = s.id AND e.source = 'session_earning'))
  OR (s.earnedCredits > 0 AND s.tutorEarningsCents <= 0))
LIMIT ?`,
    )
    .bind(from, to, from, to, OFFENDERS);
}

/** Reversals whose key marks them as a dispute's (`reversal:<order>:dispute:<id>`). */
async function disputeReversals(svc: ServiceContext, from: number, to: number) {
  const row = await svc.d1
    .prepare(
      "SELECT COALESCE(SUM(amount), 0) AS total FROM creditsLedger WHERE createdAt >= ? AND createdAt < ? AND source = 'purchase_reversal' AND idempotencyKey LIKE 'reversal:%:dispute:%'",
    )
    .bind(from, to)
    .first<{ total: number }>();
  return row?.total ?? 0;
}
