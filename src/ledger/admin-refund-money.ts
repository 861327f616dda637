/**
 * An admin refund of a purchase order as two ledger operations around Stripe's call: reverse the
 * credits and record the card refund as pending, then — only if Stripe refused — reinstate them.
 * Same rules as order-money.ts (one guarded batch each, the order's CHECKs); its identity per
 * order holds: reversedCredits = Σ purchase_reversal − Σ purchase_reinstated, 0 ≤ it ≤ totalCredits.
 */
import type { D1Like } from "../db/client";
import { newId } from "../lib/crypto";
import { insertAudit, withDetails } from "../modules/audit/store";
import { creditedOrder, entry, fail, finish, readOrder, setOrder, unchanged } from "./order-money";
import { balanceOf, entryWritten } from "./sql";
import type { AdminRefundInput, LedgerResult, OrderMoveResult, UndoAdminRefundInput } from "./types";

/**
 * An admin refund, step one: reverse `credits` (never below zero: the admin refunds only what the
 * student still holds) and record the card refund as `pending`, in one batch, before Stripe is called.
 */
export async function reverseForAdminRefund(
  d1: D1Like,
  input: AdminRefundInput,
): Promise<LedgerResult<OrderMoveResult & { refundId: string }>> {
  const existing = await d1
    .prepare("SELECT id, orderId, credits, amountCents FROM cardRefunds WHERE idempotencyKey = ?")
    .bind(`admin:${input.key}`)
    .first<{ id: string; orderId: string; credits: number; amountCents: number }>();
  if (existing) {
    if (existing.orderId !== input.orderId || existing.credits !== input.credits) {
      return fail("idempotency_conflict", "This Idempotency-Key was used for another refund");
    }
    const order = await readOrder(d1, input.orderId);
    if (!order) return fail("not_found", "Order not found");
    const balance = await balanceOf(d1, input.userId);
    return { ok: true, replayed: true, reversed: 0, reinstated: 0, order, balance, refundId: existing.id };
  }
  const o = await creditedOrder(d1, input.userId, input.orderId);
  if ("ok" in o) return o;
  const left = o.totalCredits - o.reversedCredits;
  if (input.credits > left) return fail("conflict", `Only ${left} credits of this order are left to refund`);
  const balance = await balanceOf(d1, input.userId);
  if (input.credits > balance) return fail("conflict", `The student holds only ${balance} credits`);
  if (o.refundedCents + input.cents > o.totalCents) return fail("conflict", "The order's payment is already refunded");
  const refundId = newId("rfd");
  const entryId = newId("led");
  const g = unchanged(o);
  const statements = [
    entry(d1, o, {
      id: entryId,
      kind: "reversal",
      credits: input.credits,
      key: `reversal:${o.id}:admin:${input.key}`,
      description: `Refund to the card: ${input.credits} credits of ${o.packId}`,
      at: input.at,
    }),
    d1
      .prepare(
        `INSERT INTO cardRefunds (id, orderId, idempotencyKey, amountCents, credits, reason, status, actorUserId, createdAt, updatedAt)
SELECT ?, ?, ?, ?, ?, 'admin', 'pending', ?, ?, ? WHERE ${g.sql}`,
      )
      .bind(
        refundId,
        o.id,
        `admin:${input.key}`,
        input.cents,
        input.credits,
        input.actorUserId,
        input.at,
        input.at,
        ...g.binds,
      ),
    ...(input.audit
      ? [insertAudit(d1, withDetails(input.audit, { refundId, ledgerEntryId: entryId }), entryWritten(entryId))]
      : []),
    setOrder(
      d1,
      o,
      { reversedCredits: o.reversedCredits + input.credits, refundedCents: o.refundedCents + input.cents },
      input.at,
      entryId,
    ),
  ];
  const result = await finish(d1, o, statements, { reversed: input.credits, reinstated: 0 }, { entryId, at: input.at });
  return result.ok ? { ...result, refundId } : result;
}

/** Step two when Stripe refused: reinstate the credits and give the cents back, once per refund. */
export async function undoAdminRefund(d1: D1Like, input: UndoAdminRefundInput): Promise<LedgerResult<OrderMoveResult>> {
  const refund = await d1
    .prepare("SELECT orderId, credits, amountCents, status, idempotencyKey FROM cardRefunds WHERE id = ?")
    .bind(input.refundId)
    .first<{ orderId: string; credits: number; amountCents: number; status: string; idempotencyKey: string }>();
  if (!refund) return fail("not_found", "Refund not found");
  const o = await creditedOrder(d1, input.userId, refund.orderId);
  if ("ok" in o) return o;
  if (refund.status !== "pending") return finish(d1, o, [], { reversed: 0, reinstated: 0 });
  const g = unchanged(o);
  const entryId = newId("led");
  const statements = [
    entry(d1, o, {
      id: entryId,
      kind: "reinstated",
      credits: refund.credits,
      key: `reinstated:${o.id}:${refund.idempotencyKey}`,
      description: `Refund to the card failed: ${refund.credits} credits reinstated`,
      at: input.at,
    }),
    d1
      .prepare(
        `UPDATE cardRefunds SET status = 'failed', failureReason = ?, updatedAt = ? WHERE id = ? AND status = 'pending' AND ${g.sql}`,
      )
      .bind(input.reason.slice(0, 500), input.at, input.refundId, ...g.binds),
    ...(input.audit
      ? [
          insertAudit(
            d1,
            withDetails(input.audit, { credits: refund.credits, cents: refund.amountCents, ledgerEntryId: entryId }),
            entryWritten(entryId),
          ),
        ]
      : []),
    setOrder(
      d1,
      o,
      {
        reversedCredits: o.reversedCredits - refund.credits,
        // never below what Stripe itself reported as refunded for the charge
        refundedCents: Math.max(o.stripeRefundedCents, o.refundedCents - refund.amountCents),
      },
      input.at,
      entryId,
    ),
  ];
  return finish(d1, o, statements, { reversed: 0, reinstated: refund.credits });
}
