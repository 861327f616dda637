/** Credit packs, checkout, orders, balance and statement. Ledger writes go through CreditLedger. */
import { and, desc, eq, lt } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { keysetAfter } from "../../db/keyset";
import { creditPurchaseOrders, creditsLedger, users } from "../../db/schema";
import { balanceStatement } from "../../ledger/sql";
import type { LedgerEntry } from "../../ledger/types";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { DomainError, notFound } from "../../lib/errors";
import { ProviderError } from "../../providers/errors";
import { createCheckoutSession } from "../../providers/stripe";

// Stripe wants expires_at at least 30 minutes after the session is created (as Stripe sees it): leave a margin
// for clock skew, latency and the SDK's retries.
export const CHECKOUT_TTL_MS = 35 * 60 * 1000;

export function listPacks(svc: ServiceContext) {
  return { items: svc.config.CREDIT_PACKS, nextCursor: null };
}

export async function startCheckout(svc: ServiceContext, user: { id: string; email: string }, packId: string) {
  const pack = svc.config.CREDIT_PACKS.find((p) => p.id === packId);
  if (!pack)
    throw new DomainError("validation_failed", "Unknown credit pack", [{ path: "packId", message: "Unknown pack" }]);
  if (!svc.config.STRIPE_SECRET_KEY) throw new DomainError("provider_unavailable", "Payments are not configured");
  const now = svc.clock.now();
  const orderId = newId("ord");
  await svc.db.insert(creditPurchaseOrders).values({
    id: orderId,
    userId: user.id,
    packId: pack.id,
    totalCredits: pack.credits,
    totalCents: pack.priceCents,
    currency: pack.currency,
    status: "pending",
    createdAt: now,
    updatedAt: now,
  });
  let session: Awaited<ReturnType<typeof createCheckoutSession>>;
  try {
    session = await createCheckoutSession(svc.config, {
      orderId,
      userId: user.id,
      email: user.email,
      credits: pack.credits,
      priceCents: pack.priceCents,
      currency: pack.currency,
      // Stripe measures expires_at by the real clock, not the test clock.
      expiresAt: Date.now() + CHECKOUT_TTL_MS,
    });
  } catch (err) {
    // No checkout exists for this order: settle it as failed so it never lingers as pending.
    await svc.db
      .update(creditPurchaseOrders)
      .set({ status: "failed", failedAt: svc.clock.now(), updatedAt: svc.clock.now() })
      .where(and(eq(creditPurchaseOrders.id, orderId), eq(creditPurchaseOrders.status, "pending")));
    if (err instanceof ProviderError) {
      console.log(
        JSON.stringify({ level: "error", msg: "stripe checkout failed", status: err.status, requestId: svc.requestId }),
      );
      throw new DomainError("provider_unavailable", "The payment provider is unavailable; try again");
    }
    throw err;
  }
  if (!session.url) {
    await svc.db
      .update(creditPurchaseOrders)
      .set({
        status: "failed",
        failedAt: svc.clock.now(),
        updatedAt: svc.clock.now(),
        stripeCheckoutSessionId: session.id,
      })
      .where(and(eq(creditPurchaseOrders.id, orderId), eq(creditPurchaseOrders.status, "pending")));
    throw new DomainError("provider_unavailable", "The payment provider returned no checkout URL");
  }
  await svc.db
    .update(creditPurchaseOrders)
    .set({ stripeCheckoutSessionId: session.id, checkoutUrl: session.url, updatedAt: svc.clock.now() })
    .where(eq(creditPurchaseOrders.id, orderId));
  return { orderId, checkoutSessionId: session.id, checkoutUrl: session.url };
}

type OrderRow = typeof creditPurchaseOrders.$inferSelect;

export const orderView = (o: OrderRow) => ({
  id: o.id,
  packId: o.packId,
  status: o.status,
  totalCredits: o.totalCredits,
  totalCents: o.totalCents,
  currency: o.currency,
  checkoutSessionId: o.stripeCheckoutSessionId,
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
  completedAt: o.completedAt,
  failedAt: o.failedAt,
  expiredAt: o.expiredAt,
  paymentIntentId: o.stripePaymentIntentId,
  refundedCents: o.refundedCents,
  reversedCredits: o.reversedCredits,
  disputeStatus: o.disputeStatus,
});

export async function listOrders(svc: ServiceContext, userId: string, q: { limit: number; cursor?: string }) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(creditPurchaseOrders)
    .where(
      and(
        eq(creditPurchaseOrders.userId, userId),
        keysetAfter(creditPurchaseOrders.createdAt, creditPurchaseOrders.id, after),
      ),
    )
    .orderBy(desc(creditPurchaseOrders.createdAt), desc(creditPurchaseOrders.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, orderView, (o) => [o.createdAt, o.id]);
}

export const entryView = (e: LedgerEntry | typeof creditsLedger.$inferSelect) => ({
  id: e.id,
  type: e.type,
  amount: e.amount,
  balanceAfter: e.balanceAfter,
  source: e.source,
  purchaseOrderId: e.purchaseOrderId,
  sessionId: e.sessionId,
  description: e.description,
  createdAt: e.createdAt,
});

/** The statement in chain order, newest first, paged by `seq`. */
export type LedgerQuery = { limit: number; cursor?: string };

/** One statement page: newest first by the per-user sequence, on `creditsLedger_by_user_and_seq`. */
export function ledgerPageQuery(svc: ServiceContext, userId: string, q: LedgerQuery) {
  const after = decodeCursor<[number]>(q.cursor, ["number"]);
  return svc.db
    .select()
    .from(creditsLedger)
    .where(and(eq(creditsLedger.userId, userId), after ? lt(creditsLedger.seq, after[0]) : undefined))
    .orderBy(desc(creditsLedger.seq))
    .limit(q.limit + 1);
}

/** The page query as one prepared statement, for routes that batch it with the caller's user read. */
export const ledgerPageStatement = (svc: ServiceContext, userId: string, q: LedgerQuery) =>
  toStatement(svc.d1, ledgerPageQuery(svc, userId, q));

/** The balance (latest balanceAfter) as one prepared statement, batched like the page above. */
export const balanceQuery = (svc: ServiceContext, userId: string) => balanceStatement(svc.d1, userId);

export const ledgerPage = (rows: (typeof creditsLedger.$inferSelect)[], limit: number) =>
  page(rows, limit, entryView, (e) => [e.seq]);

export async function listLedger(svc: ServiceContext, userId: string, q: LedgerQuery) {
  return ledgerPage(await ledgerPageQuery(svc, userId, q), q.limit);
}

/** An admin's view of a user's statement: 404 for an unknown user (not an empty page). */
export async function listUserLedger(svc: ServiceContext, userId: string, q: LedgerQuery) {
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, userId), columns: { id: true } });
  if (!user) throw notFound("User");
  return listLedger(svc, userId, q);
}
