/**
 * Payout lists, newest first, keyset on (createdAt, id): a tutor's own on `payouts_by_user_and_time`;
 * the admin's by status on `payouts_by_status_and_time`, else on `payouts_by_time`.
 */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { type PayoutStatus, payouts } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import type { AdminPayoutView, PayoutView } from "./schemas";

type PayoutRow = typeof payouts.$inferSelect;
type PageQuery = { limit: number; cursor?: string };

export const payoutView = (p: PayoutRow): PayoutView => ({
  id: p.id,
  amountCents: p.amountCents,
  currency: p.currency,
  status: p.status,
  stripeTransferId: p.stripeTransferId,
  failureReason: p.failureReason,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

export const adminPayoutView = (p: PayoutRow): AdminPayoutView => ({
  ...payoutView(p),
  userId: p.userId,
  runId: p.runId,
});

async function payoutPage(svc: ServiceContext, filter: ReturnType<typeof eq> | undefined, q: PageQuery) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  return svc.db
    .select()
    .from(payouts)
    .where(and(filter, keysetAfter(payouts.createdAt, payouts.id, after)))
    .orderBy(desc(payouts.createdAt), desc(payouts.id))
    .limit(q.limit + 1);
}

export async function listMyPayouts(svc: ServiceContext, userId: string, q: PageQuery) {
  const rows = await payoutPage(svc, eq(payouts.userId, userId), q);
  return page(rows, q.limit, payoutView, (p) => [p.createdAt, p.id]);
}

export async function listAdminPayouts(svc: ServiceContext, q: PageQuery & { status?: PayoutStatus }) {
  const rows = await payoutPage(svc, q.status ? eq(payouts.status, q.status) : undefined, q);
  return page(rows, q.limit, adminPayoutView, (p) => [p.createdAt, p.id]);
}
