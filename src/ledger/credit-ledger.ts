/**
 * CreditLedger: one Durable Object per user (idFromName(userId)), the only writer of that user's
 * ledger. Operations run one at a time through an explicit FIFO lock (a promise chain): the input
 * gate does not protect across awaits on D1. Each operation is ONE D1 batch (one transaction) with
 * the ledger entry and everything it pays for (and, for an admin's operation, its audit row), and is
 * idempotent by its key: a repeated call returns the first result (`replayed: true`) and writes nothing.
 */
import { DurableObject } from "cloudflare:workers";
import { type D1Like, openPrimary } from "../db/client";
import { meterD1, newMeter, type RowMeter, reported } from "../db/meter";
import type { Env } from "../env";
import { newId } from "../lib/crypto";
import { insertAudit, withDetails } from "../modules/audit/store";
import { announceEventsFrom } from "../modules/integrations/nudge";
import { insertEvent } from "../modules/integrations/outbox";
import { insertNotification } from "../modules/notifications/store";
import { reverseForAdminRefund, undoAdminRefund } from "./admin-refund-money";
import { type BookSeriesResult, bookSeriesStep, bookSessionStep } from "./booking-money";
import { applyCardRefund, applyDispute } from "./order-money";
import {
  type FailPayoutInput,
  failPayoutStep,
  type MarkPaidInput,
  markPayoutPaidStep,
  type Payout,
  type StartPayoutInput,
  type StartPayoutResult,
  startPayoutStep,
} from "./payout-money";
import { type SettleStepInput, type SettleStepResult, settleSessionStep } from "./session-money";
import { balanceOf, entryByKey, entryWritten, insertEntry, ledgerErrorKind } from "./sql";
import type {
  AdjustInput,
  AdminRefundInput,
  BookSeriesInput,
  BookSessionInput,
  CardRefundInput,
  DisputeInput,
  LedgerEntry,
  LedgerFailure,
  LedgerResult,
  OrderMoveResult,
  UndoAdminRefundInput,
} from "./types";

const fail = (code: LedgerFailure["code"], detail: string): LedgerFailure => ({ ok: false, code, detail });

interface OrderRow {
  id: string;
  userId: string;
  status: string;
  totalCredits: number;
  packId: string;
}

export class CreditLedger extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();

  /** Outside production, the rows of the operation running now (db/meter.ts), returned as `d1Rows`. */
  #meter: RowMeter | null = null;

  /** Runs `op` after every operation queued before it; failures do not break the chain. */
  #serialize<T>(op: () => Promise<T>): Promise<T> {
    const measured = () => this.#measured(op);
    const run = this.#tail.then(measured, measured);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #measured<T>(op: () => Promise<T>): Promise<T> {
    const env = this.env.ENVIRONMENT;
    if (env !== "development" && env !== "test") return op();
    this.#meter = newMeter();
    try {
      const result = await op();
      if (result && typeof result === "object") Object.assign(result, { d1Rows: reported(this.#meter) });
      return result;
    } finally {
      this.#meter = null;
    }
  }

  /**
   * An operation that may write outbox events: once it has committed a change, the fan-out is
   * nudged (a replay or a refusal wrote nothing new, so it is not).
   */
  async #announcing<R extends { ok: boolean; replayed?: boolean }>(op: Promise<R>): Promise<R> {
    const result = await op;
    if (result.ok && !result.replayed) announceEventsFrom(this.env, (p) => this.ctx.waitUntil(p));
    return result;
  }

  get #d1(): D1Like {
    const d1 = openPrimary(this.env.DB).d1;
    return this.#meter ? meterD1(d1, this.#meter) : d1;
  }

  /** Runs a ledger batch; a lost race on the chain (a writer outside this object) is retried. */
  async #withChainRetry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (ledgerErrorKind(err) !== "chain" || i >= 3) throw err;
      }
    }
  }

  async balance(userId: string): Promise<number> {
    return balanceOf(this.#d1, userId);
  }

  /** Credits a paid order once: ledger `credit/purchase` + order `completed` + `payment_completed`. */
  creditPurchase(
    userId: string,
    orderId: string,
    at: number,
  ): Promise<LedgerResult<{ entry: LedgerEntry; balance: number }>> {
    return this.#announcing(this.#creditPurchase(userId, orderId, at));
  }

  #creditPurchase(
    userId: string,
    orderId: string,
    at: number,
  ): Promise<LedgerResult<{ entry: LedgerEntry; balance: number }>> {
    return this.#serialize(async () => {
      const d1 = this.#d1;
      const key = `purchase:${orderId}`;
      const existing = await entryByKey(d1, key);
      if (existing) {
        if (existing.userId !== userId) return fail("not_found", "Order not found");
        return { ok: true, replayed: true, entry: existing, balance: await balanceOf(d1, userId) };
      }
      const order = await d1
        .prepare("SELECT id, userId, status, totalCredits, packId FROM creditPurchaseOrders WHERE id = ?")
        .bind(orderId)
        .first<OrderRow>();
      if (!order || order.userId !== userId) return fail("not_found", "Order not found");
      if (order.status !== "pending") return fail("conflict", `Order is already ${order.status}`);
      const now = at;
      const pendingGuard = {
        sql: "EXISTS (SELECT 1 FROM creditPurchaseOrders WHERE id = ? AND status = 'pending')",
        binds: [orderId],
      };
      const entryId = newId("led");
      await this.#withChainRetry(() =>
        d1.batch([
          insertEntry(
            d1,
            {
              id: entryId,
              userId,
              type: "credit",
              amount: order.totalCredits,
              source: "purchase",
              purchaseOrderId: orderId,
              sessionId: null,
              description: `Purchase of ${order.totalCredits} credits (${order.packId})`,
              idempotencyKey: key,
              createdAt: now,
            },
            pendingGuard,
          ),
          insertNotification(
            d1,
            {
              id: newId("ntf"),
              userId,
              type: "payment_completed",
              data: { orderId, credits: order.totalCredits },
              dedupeKey: `payment_completed:${orderId}`,
              createdAt: now,
            },
            pendingGuard,
          ),
          d1
            .prepare(
              "UPDATE creditPurchaseOrders SET status = 'completed', completedAt = ?, updatedAt = ? WHERE id = ? AND status = 'pending'",
            )
            .bind(now, now, orderId),
          // the outgoing webhooks' event, snapshotting the completed order
          insertEvent(
            d1,
            { type: "credits.purchased", objectId: orderId, dedupeKey: `credits.purchased:${orderId}`, at: now },
            entryWritten(entryId),
          ),
        ]),
      );
      const entry = await entryByKey(d1, key);
      if (!entry) return fail("conflict", "Order was settled concurrently");
      return { ok: true, replayed: false, entry, balance: entry.balanceAfter };
    });
  }

  /**
   * Books a session and debits it in one transaction (booking-money.ts): the insert refuses a time
   * that breaks the tutor's buffers, time off or daily cap, or overlaps the student; the debit's
   * CHECK refuses a negative balance.
   */
  bookSession(input: BookSessionInput): Promise<LedgerResult<{ entry: LedgerEntry; balance: number }>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => bookSessionStep(this.#d1, input))));
  }

  /** A weekly series: every occurrence and its debit in one transaction, or nothing. */
  bookSeries(input: BookSeriesInput): Promise<LedgerResult<BookSeriesResult>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => bookSeriesStep(this.#d1, input))));
  }

  /**
   * A session's settling step (session-money.ts): a cancellation, a no-show, a resolution or the
   * settlement after the hold. Exactly once: a step whose starting state is gone writes nothing.
   */
  settleSession(input: SettleStepInput): Promise<LedgerResult<SettleStepResult>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => settleSessionStep(this.#d1, input))));
  }

  /**
   * An admin's manual credit or debit; a debit below zero is refused. Idempotent by `key` (and its
   * aliases): the same key with the same user and body replays the first entry; with anything else it
   * is an `idempotency_conflict`, never another user's entry.
   */
  adjust(input: AdjustInput): Promise<LedgerResult<{ entry: LedgerEntry; balance: number }>> {
    return this.#serialize(async () => {
      const d1 = this.#d1;
      const key = `adjust:${input.key}`;
      for (const k of [key, ...(input.aliasKeys ?? []).map((a) => `adjust:${a}`)]) {
        const existing = await entryByKey(d1, k);
        if (!existing) continue;
        const same =
          existing.userId === input.userId &&
          existing.type === input.type &&
          existing.amount === input.amount &&
          existing.description === input.description;
        if (!same) return fail("idempotency_conflict", "This Idempotency-Key was used for another adjustment");
        return { ok: true, replayed: true, entry: existing, balance: await balanceOf(d1, input.userId) };
      }
      const id = newId("led");
      const statements = [
        insertEntry(d1, {
          id,
          userId: input.userId,
          type: input.type,
          amount: input.amount,
          source: "manual_adjustment",
          purchaseOrderId: null,
          sessionId: null,
          description: input.description,
          idempotencyKey: key,
          createdAt: input.at,
        }),
      ];
      // The admin's audit row lives and dies with the entry: same batch, written only if the entry is.
      if (input.audit) {
        statements.push(insertAudit(d1, withDetails(input.audit, { ledgerEntryId: id }), entryWritten(id)));
      }
      try {
        await this.#withChainRetry(() => d1.batch(statements));
      } catch (err) {
        if (ledgerErrorKind(err) === "insufficient") {
          return fail("insufficient_credits", "The debit would make the balance negative");
        }
        throw err;
      }
      const entry = await entryByKey(d1, key);
      if (!entry) throw new Error("adjustment entry missing after a successful batch");
      return { ok: true, replayed: false, entry, balance: entry.balanceAfter };
    });
  }

  /** `charge.refunded`: reverse the order's credits up to the refunded share (order-money.ts). */
  applyCardRefund(input: CardRefundInput): Promise<LedgerResult<OrderMoveResult>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => applyCardRefund(this.#d1, input))));
  }

  /** A dispute opened (reverse what is left) or closed (won: reinstate; lost: keep). */
  applyDispute(input: DisputeInput): Promise<LedgerResult<OrderMoveResult>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => applyDispute(this.#d1, input))));
  }

  /** An admin refund's reversal, written before Stripe is asked to refund the card. */
  reverseForAdminRefund(input: AdminRefundInput): Promise<LedgerResult<OrderMoveResult & { refundId: string }>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => reverseForAdminRefund(this.#d1, input))));
  }

  /** Stripe refused the admin refund: reinstate its credits. */
  undoAdminRefund(input: UndoAdminRefundInput): Promise<LedgerResult<OrderMoveResult>> {
    return this.#serialize(() => this.#withChainRetry(() => undoAdminRefund(this.#d1, input)));
  }

  /**
   * Payouts: only ever in the tutor's own object (idFromName(tutorUserId)), the one writer of every
   * debit of the tutor's earnings, so two overlapping runs see each other's debit and pay once.
   */
  startPayout(input: StartPayoutInput): Promise<LedgerResult<StartPayoutResult>> {
    return this.#serialize(() => this.#withChainRetry(() => startPayoutStep(this.#d1, input)));
  }

  /** Stripe made the payout's transfer. */
  markPayoutPaid(input: MarkPaidInput): Promise<LedgerResult<{ payout: Payout }>> {
    return this.#announcing(this.#serialize(() => markPayoutPaidStep(this.#d1, input)));
  }

  /** Stripe refused or reversed the payout's transfer: one reversal credit, then `failed`. */
  failPayout(input: FailPayoutInput): Promise<LedgerResult<{ payout: Payout }>> {
    return this.#announcing(this.#serialize(() => this.#withChainRetry(() => failPayoutStep(this.#d1, input))));
  }
}
