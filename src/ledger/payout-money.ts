/**
 * The payout steps of a tutor's earnings, run by the tutor's own CreditLedger object (keyed by the
 * tutor's user id): the only writer of every debit of that tutor's earnings. Settlement credits are
 * appended from the students' objects; they never debit, and the chain is computed by the database
 * in the transaction, so a credit landing between our read and our batch only loses a chain race
 * (retried by the caller) and can never make a balance wrong or negative.
 *
 * - startPayoutStep: ONE batch writes the `pending` payout and the `payout` debit of the balance it
 *   read. Guards: the tutor's account still has payouts enabled for the same destination, no other
 *   payout of the tutor is pending, none exists for this run; the debit needs its payout (trigger).
 * - markPayoutPaidStep: `pending` → `paid` with the transfer id, and the `payout_paid` notice.
 * - failPayoutStep: ONE batch writes the single `payout_reversal` credit (guarded by the payout still
 *   being in a state it starts from), then `failed` with the reason (the trigger needs the reversal),
 *   then the `payout_failed` notice. A repeated failure finds the reversal's key and writes nothing.
 *
 * Money identity kept: balance = Σ earnings ± adjustments − Σ payouts not failed (a pending or paid
 * payout has its debit and no reversal; a failed one has both).
 */
import type { D1Like } from "../db/client";
import type { PayoutStatus, payouts } from "../db/schema";
import { newId } from "../lib/crypto";
import { insertEvent } from "../modules/integrations/outbox";
import { insertNotification } from "../modules/notifications/store";
import { earningByKey, earningsBalanceOf, insertEarning } from "./earnings-sql";
import { ledgerErrorKind } from "./sql";
import type { LedgerResult } from "./types";

export type Payout = typeof payouts.$inferSelect;

export interface StartPayoutInput {
  userId: string;
  runId: string;
  stripeAccountId: string;
  minimumCents: number;
  currency: string;
  at: number;
}

export type StartPayoutResult =
  | { started: true; payout: Payout }
  | { started: false; reason: "below_minimum" | "not_enabled" | "payout_pending" };

export interface MarkPaidInput {
  payoutId: string;
  stripeTransferId: string;
  at: number;
}

export interface FailPayoutInput {
  payoutId: string;
  reason: string;
  /** The states this failure starts from: a refused transfer `pending`, a reversed one `paid`. */
  from: Extract<PayoutStatus, "pending" | "paid">[];
  at: number;
}

export const payoutById = (d1: D1Like, id: string) =>
  d1.prepare("SELECT * FROM payouts WHERE id = ?").bind(id).first<Payout>();

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

export async function startPayoutStep(d1: D1Like, input: StartPayoutInput): Promise<LedgerResult<StartPayoutResult>> {
  const mine = await d1
    .prepare("SELECT * FROM payouts WHERE runId = ? AND userId = ?")
    .bind(input.runId, input.userId)
    .first<Payout>();
  if (mine) return { ok: true, replayed: true, started: true, payout: mine };
  const balance = await earningsBalanceOf(d1, input.userId);
  if (balance < input.minimumCents) return { ok: true, replayed: false, started: false, reason: "below_minimum" };
  const payoutId = newId("pay");
  const at = input.at;
  try {
    const results = await d1.batch([
      d1
        .prepare(
          `INSERT INTO payouts (id, userId, runId, amountCents, currency, stripeAccountId, status, createdAt, updatedAt)
SELECT ?, ?, ?, ?, ?, ?, 'pending', ?, ?
WHERE EXISTS (SELECT 1 FROM payoutAccounts WHERE userId = ? AND stripeAccountId = ? AND payoutsEnabled = 1)
  AND NOT EXISTS (SELECT 1 FROM payouts WHERE userId = ? AND status = 'pending')`,
        )
        .bind(
          payoutId,
          input.userId,
          input.runId,
          balance,
          input.currency,
          input.stripeAccountId,
          at,
          at,
          input.userId,
          input.stripeAccountId,
          input.userId,
        ),
      insertEarning(
        d1,
        {
          id: newId("ern"),
          userId: input.userId,
          type: "debit",
          amountCents: balance,
          currency: input.currency,
          source: "payout",
          sessionId: null,
          payoutId,
          description: "Payout to your payout account",
          idempotencyKey: `payout:${payoutId}`,
          createdAt: at,
        },
        { sql: "EXISTS (SELECT 1 FROM payouts WHERE id = ?)", binds: [payoutId] },
      ),
    ]);
    if ((results[0]?.meta.changes ?? 0) === 0) {
      const pending = await d1
        .prepare("SELECT 1 AS one FROM payouts WHERE userId = ? AND status = 'pending'")
        .bind(input.userId)
        .first();
      return { ok: true, replayed: false, started: false, reason: pending ? "payout_pending" : "not_enabled" };
    }
  } catch (err) {
    // another writer debited first (not through this object: a bug elsewhere): the CHECK refused it
    if (ledgerErrorKind(err) === "insufficient") return { ok: false, code: "conflict", detail: "Balance changed" };
    throw err;
  }
  const payout = await payoutById(d1, payoutId);
  if (!payout) throw new Error("payout missing after a successful batch");
  return { ok: true, replayed: false, started: true, payout };
}

export async function markPayoutPaidStep(d1: D1Like, input: MarkPaidInput): Promise<LedgerResult<{ payout: Payout }>> {
  const payout = await payoutById(d1, input.payoutId);
  if (!payout) return { ok: false, code: "not_found", detail: "Payout not found" };
  if (payout.status !== "pending") {
    const same = payout.status === "paid" && payout.stripeTransferId === input.stripeTransferId;
    return same
      ? { ok: true, replayed: true, payout }
      : { ok: false, code: "conflict", detail: `The payout is already ${payout.status}` };
  }
  await d1.batch([
    d1
      .prepare(
        "UPDATE payouts SET status = 'paid', stripeTransferId = ?, updatedAt = ? WHERE id = ? AND status = 'pending'",
      )
      .bind(input.stripeTransferId, input.at, input.payoutId),
    insertNotification(
      d1,
      {
        id: newId("ntf"),
        userId: payout.userId,
        type: "payout_paid",
        data: { payoutId: payout.id, amountCents: payout.amountCents, currency: payout.currency },
        dedupeKey: `payout_paid:${payout.id}`,
        createdAt: input.at,
      },
      {
        sql: "EXISTS (SELECT 1 FROM payouts WHERE id = ? AND status = 'paid' AND stripeTransferId = ?)",
        binds: [payout.id, input.stripeTransferId],
      },
    ),
    // the outgoing webhooks' event: the SELECT finds the payout only once it is paid by this transfer
    insertEvent(
      d1,
      { type: "payout.paid", objectId: payout.id, dedupeKey: `payout.paid:${payout.id}`, at: input.at },
      {
        sql: "EXISTS (SELECT 1 FROM payouts WHERE id = ? AND status = 'paid' AND stripeTransferId = ?)",
        binds: [payout.id, input.stripeTransferId],
      },
    ),
  ]);
  const after = await payoutById(d1, input.payoutId);
  if (after?.status !== "paid") return { ok: false, code: "conflict", detail: `The payout is ${after?.status}` };
  return { ok: true, replayed: false, payout: after };
}

export async function failPayoutStep(d1: D1Like, input: FailPayoutInput): Promise<LedgerResult<{ payout: Payout }>> {
  const payout = await payoutById(d1, input.payoutId);
  if (!payout) return { ok: false, code: "not_found", detail: "Payout not found" };
  const key = `payout_reversal:${payout.id}`;
  if (payout.status === "failed" || (await earningByKey(d1, key))) return { ok: true, replayed: true, payout };
  if (!(input.from as PayoutStatus[]).includes(payout.status)) {
    return { ok: false, code: "conflict", detail: `A ${payout.status} payout cannot fail this way` };
  }
  const reason = input.reason.slice(0, 500);
  const fromSql = `status IN (${placeholders(input.from.length)})`;
  const failedNow = {
    sql: "EXISTS (SELECT 1 FROM payouts WHERE id = ? AND status = 'failed' AND updatedAt = ?)",
    binds: [payout.id, input.at],
  };
  const statements = [
    insertEarning(
      d1,
      {
        id: newId("ern"),
        userId: payout.userId,
        type: "credit",
        amountCents: payout.amountCents,
        currency: payout.currency,
        source: "payout_reversal",
        sessionId: null,
        payoutId: payout.id,
        description: "A payout did not go through: back in your balance",
        idempotencyKey: key,
        createdAt: input.at,
      },
      { sql: `EXISTS (SELECT 1 FROM payouts WHERE id = ? AND ${fromSql})`, binds: [payout.id, ...input.from] },
    ),
    d1
      .prepare(`UPDATE payouts SET status = 'failed', failureReason = ?, updatedAt = ? WHERE id = ? AND ${fromSql}`)
      .bind(reason, input.at, payout.id, ...input.from),
    insertNotification(
      d1,
      {
        id: newId("ntf"),
        userId: payout.userId,
        type: "payout_failed",
        data: { payoutId: payout.id, amountCents: payout.amountCents, currency: payout.currency, reason },
        dedupeKey: `payout_failed:${payout.id}`,
        createdAt: input.at,
      },
      failedNow,
    ),
    insertEvent(
      d1,
      { type: "payout.failed", objectId: payout.id, dedupeKey: `payout.failed:${payout.id}`, at: input.at },
      failedNow,
    ),
  ];
  await d1.batch(statements);
  const after = await payoutById(d1, payout.id);
  if (after?.status !== "failed") return { ok: false, code: "conflict", detail: `The payout is ${after?.status}` };
  return { ok: true, replayed: false, payout: after };
}
