/**
 * Who a payout run pays: the one selection shared by the run (run.ts) and the admin's preview
 * (`GET /v1/admin/payouts/due`), so the preview lists exactly the tutors the next run would pay.
 * Candidates after `after` in user-id order: enabled accounts (partial index), whose latest earnings
 * entry (one index search each) reaches the minimum, with no pending payout (partial unique index).
 * Binds: after, the minimum cents, the limit.
 */

/** The tutor's available balance: the latest line of their earnings chain (`a` is the account row). */
export const LATEST_EARNINGS_BALANCE =
  "(SELECT e.balanceAfterCents FROM earningsLedger AS e WHERE e.userId = a.userId ORDER BY e.seq DESC LIMIT 1)";

/** The candidates' query, selecting `columns` of each account row `a`. */
export const payoutCandidatesSql = (
  columns: string,
) => `SELECT ${columns} FROM payoutAccounts AS a INDEXED BY payoutAccounts_enabled_by_user
WHERE a.payoutsEnabled = 1 AND a.userId > ?
  AND ${LATEST_EARNINGS_BALANCE} >= ?
  AND NOT EXISTS (SELECT 1 FROM payouts AS p WHERE p.userId = a.userId AND p.status = 'pending')
ORDER BY a.userId LIMIT ?`;
