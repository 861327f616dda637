/**
 * `GET /v1/admin/payouts/due`: the tutors the next payout run would pay, with what it would pay each
 * (their whole available balance), in the run's own order and selection (candidates.ts), paged by
 * user id. Each tutor's profile is one search on tutorProfiles_by_user; a Connect account without a
 * tutor profile (not written by the API, but the run does not require one) shows null for it.
 */
import type { ServiceContext } from "../../context";
import { decodeCursor, page } from "../../lib/cursor";
import { LATEST_EARNINGS_BALANCE, payoutCandidatesSql } from "./candidates";
import type { PayoutsDueView } from "./schemas";

type DueRow = { userId: string; balanceCents: number; tutorProfileId: string | null; displayName: string | null };

const dueSql = payoutCandidatesSql(
  `a.userId, ${LATEST_EARNINGS_BALANCE} AS balanceCents,
  (SELECT t.id FROM tutorProfiles AS t WHERE t.userId = a.userId) AS tutorProfileId,
  (SELECT t.displayName FROM tutorProfiles AS t WHERE t.userId = a.userId) AS displayName`,
);

export async function listPayoutsDue(
  svc: ServiceContext,
  q: { limit: number; cursor?: string },
): Promise<PayoutsDueView> {
  const after = decodeCursor<[string]>(q.cursor, ["string"]);
  const minimumCents = svc.config.PAYOUT_MINIMUM_CENTS;
  const currency = svc.config.PAYOUT_CURRENCY;
  const { results } = await svc.d1
    .prepare(dueSql)
    // the run starts after "" (every user id sorts after it)
    .bind(after?.[0] ?? "", minimumCents, q.limit + 1)
    .all<DueRow>();
  const due = page(
    results,
    q.limit,
    (r) => ({ ...r, currency }),
    (r) => [r.userId],
  );
  return { ...due, minimumCents };
}
