/**
 * A tutor's earnings, read side: the balance is the latest entry of the tutor's earnings chain
 * (written only by the settling step and, later, the payout steps); `pendingCents` is what the
 * tutor's unsettled sessions would earn, read on the partial index `sessions_held_by_tutor`.
 */
import type { ServiceContext } from "../../context";
import { type EarningsEntry, earningsBalanceStatement } from "../../ledger/earnings-sql";
import { decodeCursor, page } from "../../lib/cursor";
import type { EarningsEntryView, EarningsSummaryView } from "./schemas";

/**
 * Credits held by the tutor's open and disputed sessions, whatever their status: a scheduled,
 * in-progress or completed one earns its cost unless it is refunded, and a legacy late cancellation
 * (cancelled, kept, still open: written before settlement existed) is settled by the sweep with no
 * refund. So this is what they "would earn", an upper bound: an early cancel or a resolve with a
 * refund lowers it. The predicate repeats the partial index's own so the planner can use it.
 */
export const heldCreditsStatement = (svc: ServiceContext, tutorProfileId: string) =>
  svc.d1
    .prepare(
      "SELECT COALESCE(SUM(creditsCost), 0) AS held FROM sessions WHERE tutorProfileId = ? AND settlementStatus IN ('open', 'disputed')",
    )
    .bind(tutorProfileId);

export async function earningsSummary(
  svc: ServiceContext,
  tutor: { userId: string; tutorProfileId: string | null },
): Promise<EarningsSummaryView> {
  const [balance, held, account] = await svc.d1.batch([
    earningsBalanceStatement(svc.d1, tutor.userId),
    // A tutor token always belongs to a user with a tutor profile; without one nothing is held.
    heldCreditsStatement(svc, tutor.tutorProfileId ?? ""),
    svc.d1.prepare("SELECT payoutsEnabled FROM payoutAccounts WHERE userId = ?").bind(tutor.userId),
  ]);
  const balanceCents = (balance?.results?.[0] as { balanceAfterCents: number } | undefined)?.balanceAfterCents ?? 0;
  const heldCredits = (held?.results?.[0] as { held: number } | undefined)?.held ?? 0;
  return {
    balanceCents,
    pendingCents: heldCredits * svc.config.TUTOR_PAYOUT_CENTS_PER_CREDIT,
    currency: svc.config.PAYOUT_CURRENCY,
    // Stripe's word (account.updated) on the tutor's Connect account; no account, no payouts.
    payoutsEnabled: (account?.results?.[0] as { payoutsEnabled: number } | undefined)?.payoutsEnabled === 1,
  };
}

export type EarningsLedgerQuery = { limit: number; cursor?: string };

/** One page in chain order, newest first, keyset on `seq` (index earningsLedger_by_user_and_seq). */
export function earningsPageStatement(svc: ServiceContext, userId: string, q: EarningsLedgerQuery) {
  const after = decodeCursor<[number]>(q.cursor, ["number"]);
  return svc.d1
    .prepare(`SELECT * FROM earningsLedger WHERE userId = ?${after ? " AND seq < ?" : ""} ORDER BY seq DESC LIMIT ?`)
    .bind(...(after ? [userId, after[0], q.limit + 1] : [userId, q.limit + 1]));
}

export const earningsEntryView = (e: EarningsEntry): EarningsEntryView => ({
  id: e.id,
  type: e.type,
  amountCents: e.amountCents,
  balanceAfterCents: e.balanceAfterCents,
  source: e.source,
  sessionId: e.sessionId,
  payoutId: e.payoutId,
  description: e.description,
  createdAt: e.createdAt,
});

export const earningsPage = (rows: EarningsEntry[], limit: number) =>
  page(rows, limit, earningsEntryView, (e) => [e.seq]);
