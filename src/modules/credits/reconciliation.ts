/**
 * `GET /v1/admin/reconciliation`: where the credits and cents went over a time range, and whether the
 * money identities hold (with the offending ids when one does not):
 * - every order completed in the range has exactly one `purchase` entry of its credits;
 * - every order's `reversedCredits` = Σ purchase_reversal − Σ purchase_reinstated of that order;
 * - every session in the range has one `session_booking` debit of its cost and a `session_refund`
 *   exactly when it was refunded (so creditsCost = refunded + held, per session).
 * Tutor earnings and payouts are not part of this release: they are reported as 0 and no identity
 * involves them yet.
 */
import type { ServiceContext } from "../../context";

const OFFENDERS = 20;
const DAY_MS = 24 * 60 * 60 * 1000;

type Totals = { source: string; type: string; total: number }[];

const sum = (rows: Totals, source: string, type?: string) =>
  rows.filter((r) => r.source === source && (!type || r.type === type)).reduce((a, r) => a + r.total, 0);

export async function reconcile(svc: ServiceContext, q: { from?: number; to?: number }) {
  const to = q.to ?? svc.clock.now() + 1;
  const from = q.from ?? to - 30 * DAY_MS;
  const d1 = svc.d1;
  const [ledger, sessions, paid, cards, purchases, reversals, bookings] = await d1.batch([
    d1
      .prepare(
        "SELECT source, type, SUM(amount) AS total FROM creditsLedger WHERE createdAt >= ? AND createdAt < ? GROUP BY source, type",
      )
      .bind(from, to),
    d1
      .prepare(
        "SELECT status, refunded, SUM(creditsCost) AS total FROM sessions WHERE startTime >= ? AND startTime < ? GROUP BY status, refunded",
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
    d1
      .prepare(
        `SELECT s.id FROM sessions s WHERE s.startTime >= ? AND s.startTime < ?
AND (NOT EXISTS (SELECT 1 FROM creditsLedger l WHERE l.idempotencyKey = 'booking:' || s.id AND l.amount = s.creditsCost)
  OR (s.refunded = 1) != EXISTS (SELECT 1 FROM creditsLedger l WHERE l.idempotencyKey = 'refund:' || s.id AND l.amount = s.creditsCost))
LIMIT ?`,
      )
      .bind(from, to, OFFENDERS),
  ]);
  const rows = (ledger?.results ?? []) as Totals;
  const held = (sessions?.results ?? []) as { status: string; refunded: number; total: number }[];
  const ids = (r: D1Result | undefined) => ((r?.results ?? []) as { id: string }[]).map((x) => x.id);
  const reversal = sum(rows, "purchase_reversal");
  const byDisputes = await disputeReversals(svc, from, to);
  const credits = {
    sold: sum(rows, "purchase"),
    spentOnSessions: sum(rows, "session_booking"),
    heldInOpenSessions: held.filter((h) => h.status !== "cancelled" && !h.refunded).reduce((a, h) => a + h.total, 0),
    heldInDisputedSessions: 0,
    refundedToStudents: sum(rows, "session_refund"),
    earnedByTutors: 0,
    reversedByRefunds: reversal - byDisputes,
    reversedByDisputes: byDisputes,
    reinstated: sum(rows, "purchase_reinstated"),
    adjustedByAdmins: sum(rows, "manual_adjustment", "credit") - sum(rows, "manual_adjustment", "debit"),
    netChange: rows.reduce((a, r) => a + (r.type === "credit" ? r.total : -r.total), 0),
  };
  const identities = [
    { name: "one purchase entry of its credits per completed order", offendingIds: ids(purchases) },
    { name: "order reversedCredits = reversals - reinstatements", offendingIds: ids(reversals) },
    { name: "session creditsCost = refunded + held (one booking, refund iff refunded)", offendingIds: ids(bookings) },
  ].map((i) => ({ ...i, holds: i.offendingIds.length === 0 }));
  return {
    from,
    to,
    credits,
    cents: {
      paid: (paid?.results?.[0] as { total: number } | undefined)?.total ?? 0,
      refundedToCards: (cards?.results?.[0] as { total: number } | undefined)?.total ?? 0,
      paidOut: 0,
      payoutsPending: 0,
      payoutsFailed: 0,
    },
    identities,
    balanced: identities.every((i) => i.holds),
  };
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
