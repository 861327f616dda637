/**
 * Money after the fact: card refunds, disputes and admin refunds of a purchase order, as ledger
 * operations (the admin refund's two steps are in admin-refund-money.ts, on this file's steps). Each runs inside its user's CreditLedger lock and writes ONE batch: the ledger entry
 * (`purchase_reversal` debit or `purchase_reinstated` credit), the order's new money state, the
 * notifications, and for an admin refund (or its undo) the audit row. Every statement is guarded on the order still being in the state that was read, so a
 * stale read writes nothing, and the order's CHECKs (reversed ≤ credits, dispute part ≤ reversed,
 * refunded ≤ total) hold whatever happens.
 *
 * Identity per order, at every instant: reversedCredits = Σ purchase_reversal − Σ purchase_reinstated
 * of that order, and 0 ≤ reversedCredits ≤ totalCredits.
 */
import type { D1Like } from "../db/client";
import { newId } from "../lib/crypto";
import { insertEvent } from "../modules/integrations/outbox";
import { insertAdminNotifications, insertNotification } from "../modules/notifications/store";
import { balanceOf, entryWritten, insertEntry } from "./sql";
import type { CardRefundInput, DisputeInput, LedgerFailure, LedgerResult, OrderMoney, OrderMoveResult } from "./types";

export const fail = (code: LedgerFailure["code"], detail: string): LedgerFailure => ({ ok: false, code, detail });

const ORDER_COLUMNS =
  "id, userId, status, totalCredits, totalCents, packId, refundedCents, stripeRefundedCents, reversedCredits, disputeReversedCredits, disputeStatus, disputeId";

export function readOrder(d1: D1Like, orderId: string) {
  return d1.prepare(`SELECT ${ORDER_COLUMNS} FROM creditPurchaseOrders WHERE id = ?`).bind(orderId).first<OrderMoney>();
}

/** True while the order is exactly as read: the guard of every statement of an order operation. */
export function unchanged(o: OrderMoney) {
  return {
    sql: "EXISTS (SELECT 1 FROM creditPurchaseOrders WHERE id = ? AND reversedCredits = ? AND refundedCents = ? AND stripeRefundedCents = ? AND disputeReversedCredits = ? AND disputeStatus IS ?)",
    binds: [o.id, o.reversedCredits, o.refundedCents, o.stripeRefundedCents, o.disputeReversedCredits, o.disputeStatus],
  };
}

/**
 * The order's new money state. When the operation writes a ledger entry, `entryId` makes the update
 * conditional on that entry having been written in this batch: the order never moves without its entry.
 */
export function setOrder(
  d1: D1Like,
  o: OrderMoney,
  next: Partial<OrderMoney>,
  at: number,
  entryId: string | null = null,
) {
  const g = unchanged(o);
  const n = { ...o, ...next };
  return d1
    .prepare(
      `UPDATE creditPurchaseOrders SET reversedCredits = ?, refundedCents = ?, stripeRefundedCents = ?, disputeReversedCredits = ?, disputeStatus = ?, disputeId = ?, updatedAt = ?
WHERE id = ? AND reversedCredits = ? AND refundedCents = ? AND stripeRefundedCents = ? AND disputeReversedCredits = ? AND disputeStatus IS ?
  AND (? IS NULL OR EXISTS (SELECT 1 FROM creditsLedger WHERE id = ?))`,
    )
    .bind(
      n.reversedCredits,
      n.refundedCents,
      n.stripeRefundedCents,
      n.disputeReversedCredits,
      n.disputeStatus,
      n.disputeId,
      at,
      ...g.binds,
      entryId,
      entryId,
    );
}

export function entry(
  d1: D1Like,
  o: OrderMoney,
  move: { id: string; kind: "reversal" | "reinstated"; credits: number; key: string; description: string; at: number },
) {
  return insertEntry(
    d1,
    {
      id: move.id,
      userId: o.userId,
      type: move.kind === "reversal" ? "debit" : "credit",
      amount: move.credits,
      source: move.kind === "reversal" ? "purchase_reversal" : "purchase_reinstated",
      purchaseOrderId: o.id,
      sessionId: null,
      description: move.description,
      idempotencyKey: move.key,
      createdAt: move.at,
    },
    unchanged(o),
  );
}

/**
 * Runs the operation's batch. A reversal also announces `credits.reversed` (the outgoing webhooks'
 * event, snapshotting the order after its update), written only with the reversal's entry.
 */
export async function finish(
  d1: D1Like,
  o: OrderMoney,
  statements: D1PreparedStatement[],
  moved: { reversed: number; reinstated: number },
  reversal?: { entryId: string | null; at: number },
): Promise<LedgerResult<OrderMoveResult>> {
  // The order update is the batch's last statement before the event: 0 rows means the order moved meanwhile.
  const updateIndex = statements.length - 1;
  if (moved.reversed > 0 && reversal?.entryId) {
    statements.push(
      insertEvent(
        d1,
        {
          type: "credits.reversed",
          objectId: o.id,
          dedupeKey: `credits.reversed:${reversal.entryId}`,
          at: reversal.at,
        },
        entryWritten(reversal.entryId),
      ),
    );
  }
  const results = statements.length ? await d1.batch(statements) : [];
  if (statements.length && (results[updateIndex]?.meta.changes ?? 0) === 0) {
    return fail("conflict", "The order changed while this operation ran");
  }
  const order = (await readOrder(d1, o.id)) ?? o;
  return {
    ok: true,
    replayed: moved.reversed + moved.reinstated === 0,
    ...moved,
    order,
    balance: await balanceOf(d1, o.userId),
  };
}

/** The order must exist, belong to the user and have been credited before money can come back out. */
export async function creditedOrder(d1: D1Like, userId: string, orderId: string) {
  const o = await readOrder(d1, orderId);
  if (!o || o.userId !== userId) return fail("not_found", "Order not found");
  if (o.status !== "completed") return fail("conflict", `Order is ${o.status}, not completed`);
  return o;
}

/**
 * `charge.refunded`: brings the order's refund reversals up to ceil(totalCredits × refunded / amount),
 * never more (replays and several partial refunds reverse the cumulative amount exactly once). Credits an
 * admin refund or a dispute already reversed are not reversed again.
 */
export async function applyCardRefund(d1: D1Like, input: CardRefundInput): Promise<LedgerResult<OrderMoveResult>> {
  const o = await creditedOrder(d1, input.userId, input.orderId);
  if ("ok" in o) return o;
  const seen = Math.min(o.totalCents, Math.max(o.stripeRefundedCents, input.amountRefunded));
  const refunded = Math.max(o.refundedCents, seen);
  const target = Math.min(o.totalCredits, Math.ceil((o.totalCredits * input.amountRefunded) / input.chargeAmount));
  const byRefunds = o.reversedCredits - o.disputeReversedCredits;
  const credits = Math.max(0, Math.min(target - byRefunds, o.totalCredits - o.reversedCredits));
  if (credits === 0 && refunded === o.refundedCents && seen === o.stripeRefundedCents) {
    return finish(d1, o, [], { reversed: 0, reinstated: 0 });
  }
  const statements: D1PreparedStatement[] = [];
  const entryId = credits > 0 ? newId("led") : null;
  if (entryId) {
    // One key per application, not per event: after an undone admin refund the same event may rightly
    // reverse again. The order's entry count only grows (this runs under the user's lock, guarded on
    // the order as read), so the key is new exactly when this application is.
    const applied = await d1
      .prepare("SELECT COUNT(*) AS n FROM creditsLedger WHERE purchaseOrderId = ?")
      .bind(o.id)
      .first<{ n: number }>();
    statements.push(
      entry(d1, o, {
        id: entryId,
        kind: "reversal",
        credits,
        key: `reversal:${o.id}:refund:${applied?.n ?? 0}`,
        description: `Card refund: ${credits} of ${o.totalCredits} credits of ${o.packId} reversed`,
        at: input.at,
      }),
      insertNotification(
        d1,
        {
          id: newId("ntf"),
          userId: o.userId,
          type: "payment_refunded",
          data: { orderId: o.id, credits, refundedCents: refunded },
          dedupeKey: `payment_refunded:${entryId}`,
          createdAt: input.at,
        },
        unchanged(o),
      ),
    );
  }
  statements.push(
    setOrder(
      d1,
      o,
      { reversedCredits: o.reversedCredits + credits, refundedCents: refunded, stripeRefundedCents: seen },
      input.at,
      entryId,
    ),
  );
  return finish(d1, o, statements, { reversed: credits, reinstated: 0 }, { entryId, at: input.at });
}

/**
 * `charge.dispute.created` reverses every credit of the order not yet reversed; `closed` with `won`
 * reinstates what the dispute reversed (once), `lost` keeps it. A `closed` seen before its `created`
 * settles the dispute directly (won: nothing moves; lost: the credits are reversed then).
 */
export async function applyDispute(d1: D1Like, input: DisputeInput): Promise<LedgerResult<OrderMoveResult>> {
  const o = await creditedOrder(d1, input.userId, input.orderId);
  if ("ok" in o) return o;
  const none = { reversed: 0, reinstated: 0 };
  const known = o.disputeId === input.disputeId;
  if (o.disputeId && !known) return fail("conflict", "The order already has another dispute");
  const settled = o.disputeStatus === "won" || o.disputeStatus === "lost";
  if (settled || (input.status === "open" && o.disputeStatus === "open")) return finish(d1, o, [], none);

  if (input.status === "open" || input.status === "lost") {
    const credits = o.disputeStatus === "open" ? 0 : o.totalCredits - o.reversedCredits;
    const statements: D1PreparedStatement[] = [];
    const entryId = credits > 0 ? newId("led") : null;
    if (entryId) {
      statements.push(
        entry(d1, o, {
          id: entryId,
          kind: "reversal",
          credits,
          key: `reversal:${o.id}:dispute:${input.disputeId}`,
          description: `Card payment disputed: ${credits} credits of ${o.packId} reversed`,
          at: input.at,
        }),
      );
    }
    if (o.disputeStatus === null) {
      const data = { orderId: o.id, userId: o.userId, credits, disputeId: input.disputeId };
      statements.push(
        insertNotification(
          d1,
          {
            id: newId("ntf"),
            userId: o.userId,
            type: "payment_disputed",
            data,
            dedupeKey: `payment_disputed:${o.id}`,
            createdAt: input.at,
          },
          unchanged(o),
        ),
        insertAdminNotifications(
          d1,
          { type: "payment_disputed", data, dedupeKey: `payment_disputed:${o.id}`, at: input.at },
          unchanged(o),
        ),
      );
    }
    const next = {
      reversedCredits: o.reversedCredits + credits,
      disputeReversedCredits: o.disputeReversedCredits + credits,
      disputeStatus: input.status,
      disputeId: input.disputeId,
    };
    statements.push(setOrder(d1, o, next, input.at, entryId));
    return finish(d1, o, statements, { reversed: credits, reinstated: 0 }, { entryId, at: input.at });
  }

  // won
  const credits = o.disputeReversedCredits;
  const statements: D1PreparedStatement[] = [];
  const entryId = credits > 0 ? newId("led") : null;
  if (entryId) {
    statements.push(
      entry(d1, o, {
        id: entryId,
        kind: "reinstated",
        credits,
        key: `reinstated:${o.id}:dispute:${input.disputeId}`,
        description: `Dispute won: ${credits} credits of ${o.packId} reinstated`,
        at: input.at,
      }),
    );
  }
  const next = {
    reversedCredits: o.reversedCredits - credits,
    disputeReversedCredits: 0,
    disputeStatus: "won" as const,
    disputeId: input.disputeId,
  };
  statements.push(setOrder(d1, o, next, input.at, entryId));
  return finish(d1, o, statements, { reversed: 0, reinstated: credits });
}
