/**
 * The tutors' side of `GET /v1/admin/reconciliation`: payout totals and the identities that bind the
 * earnings ledger to the payouts table. Each function returns one prepared statement, so the report
 * stays one D1 batch.
 *
 * Time bounds (only index-backed columns: `payouts.updatedAt` has no index):
 * - payout totals are over the payouts CREATED in the range (payouts_by_time), by their status now:
 *   a payout's money leaves the balance when it is created (its `payout` debit has the same
 *   `createdAt`), so paidOut + payoutsPending + payoutsFailed = the payouts the range started.
 * - the payout identity covers the payouts created in the range and those with an earnings line
 *   (debit or reversal) in the range (earningsLedger_by_createdAt), i.e. every payout whose money
 *   moved in the range; a pending → paid change moves no money and needs the debit (trigger).
 * - the tutor identities cover every tutor with an earnings line or a payout created in the range.
 */
import type { ServiceContext } from "../../context";

type D1 = ServiceContext["d1"];

/** Σ amountCents of the payouts created in [from, to), by status (payouts_by_time). */
export function payoutTotals(d1: D1, from: number, to: number) {
  return d1
    .prepare(
      "SELECT status, COALESCE(SUM(amountCents), 0) AS total FROM payouts WHERE createdAt >= ? AND createdAt < ? GROUP BY status",
    )
    .bind(from, to);
}

/** The tutors active in the range: an earnings line or a payout created in it. */
const ACTIVE_TUTORS = `SELECT userId FROM earningsLedger WHERE createdAt >= ? AND createdAt < ?
  UNION SELECT userId FROM payouts WHERE createdAt >= ? AND createdAt < ?`;

const LATEST_BALANCE =
  "COALESCE((SELECT e.balanceAfterCents FROM earningsLedger e WHERE e.userId = t.userId ORDER BY e.seq DESC LIMIT 1), 0)";

/**
 * Tutors whose latest balance is not the sum of their signed amounts (the chain adds up; the chain
 * trigger keeps it, so this catches only a line written past the trigger).
 */
export function tutorChainOffenders(d1: D1, from: number, to: number, limit: number) {
  return d1
    .prepare(
      `SELECT t.userId AS id FROM (${ACTIVE_TUTORS}) t
WHERE ${LATEST_BALANCE}
  != (SELECT COALESCE(SUM(CASE e.type WHEN 'credit' THEN e.amountCents ELSE -e.amountCents END), 0) FROM earningsLedger e WHERE e.userId = t.userId)
LIMIT ?`,
    )
    .bind(from, to, from, to, limit);
}

/**
 * Tutors whose latest balance is not Σ session_earning ± Σ manual_adjustment − Σ amountCents of their
 * payouts that are not failed. Unlike the chain check, this reads the payouts TABLE, not the payout
 * lines: a debit or reversal that disagrees with its payout's status shows here.
 * (earningsLedger_by_user_and_seq for the lines, payouts_by_user_and_time for the payouts.)
 */
export function tutorBalanceOffenders(d1: D1, from: number, to: number, limit: number) {
  return d1
    .prepare(
      `SELECT t.userId AS id FROM (${ACTIVE_TUTORS}) t
WHERE ${LATEST_BALANCE}
  != (SELECT COALESCE(SUM(CASE WHEN e.source = 'session_earning' THEN e.amountCents
      WHEN e.source = 'manual_adjustment' AND e.type = 'credit' THEN e.amountCents
      WHEN e.source = 'manual_adjustment' THEN -e.amountCents ELSE 0 END), 0)
    FROM earningsLedger e WHERE e.userId = t.userId)
   - (SELECT COALESCE(SUM(p.amountCents), 0) FROM payouts p WHERE p.userId = t.userId AND p.status != 'failed')
LIMIT ?`,
    )
    .bind(from, to, from, to, limit);
}

/**
 * Payouts whose money moved in the range (see the header) without exactly one `payout` debit of
 * their tutor, amount and currency, or without a `payout_reversal` of their tutor and amount exactly
 * when they are failed (none otherwise). A line naming a payout that does not exist is named too.
 * Each payout's lines are an index search on earningsLedger_by_payout.
 */
export function payoutEntryOffenders(d1: D1, from: number, to: number, limit: number) {
  const lines = (source: "payout" | "payout_reversal", matching: boolean) =>
    `(SELECT COUNT(*) FROM earningsLedger e WHERE e.payoutId = x.id AND e.source = '${source}'${
      matching
        ? ` AND e.userId = p.userId AND e.amountCents = p.amountCents${source === "payout" ? " AND e.currency = p.currency" : ""}`
        : ""
    })`;
  const reversals = "CASE p.status WHEN 'failed' THEN 1 ELSE 0 END";
  return d1
    .prepare(
      `SELECT x.id FROM (
  SELECT id FROM payouts WHERE createdAt >= ? AND createdAt < ?
  UNION SELECT payoutId AS id FROM earningsLedger WHERE createdAt >= ? AND createdAt < ? AND source IN ('payout', 'payout_reversal')) x
LEFT JOIN payouts p ON p.id = x.id
WHERE p.id IS NULL
  OR ${lines("payout", false)} != 1 OR ${lines("payout", true)} != 1
  OR ${lines("payout_reversal", false)} != ${reversals} OR ${lines("payout_reversal", true)} != ${reversals}
LIMIT ?`,
    )
    .bind(from, to, from, to, limit);
}
