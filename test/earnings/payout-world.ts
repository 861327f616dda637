/**
 * Payouts produced the way the payout run produces them: through the tutor's own CreditLedger
 * object (startPayout / markPayoutPaid / failPayout), after real earnings from late cancellations.
 * The payout account is written raw (its routes and webhooks are tested in test/payouts).
 */
import { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import { call, env, json, type TestUser } from "../helpers/api";
import { book, HOUR, slotAt, type Tutor } from "../sessions/helpers";

/** A late cancellation by the student: the tutor earns the session's whole cost at once. */
export async function earnLate(student: TestUser, tutor: Tutor, subjectId: string, hoursAhead: number) {
  const res = await book(student, tutor, subjectId, slotAt(hoursAhead), 60);
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  const { id } = await json<{ id: string }>(res);
  const late = slotAt(5);
  await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(late, late + HOUR, id)
    .run();
  const cancel = await call(`/v1/sessions/${id}/cancel`, { token: student.token, body: {} });
  if (cancel.status !== 200) throw new Error(`cancel: ${cancel.status} ${await cancel.text()}`);
  return id;
}

export const accountOf = (tutorId: string) => `acct_test_${tutorId}`;

export async function enablePayouts(tutorId: string, opts: { enabled?: boolean; details?: boolean } = {}) {
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO payoutAccounts (userId, stripeAccountId, payoutsEnabled, detailsSubmitted, stateAsOf, createdAt, updatedAt)
VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(tutorId, accountOf(tutorId), (opts.enabled ?? true) ? 1 : 0, (opts.details ?? true) ? 1 : 0, now, now, now)
    .run();
}

/** One admin payout run for one tutor: the pending payout and its debit, in the tutor's object. */
export async function startPayout(tutorId: string, at = Date.now()) {
  const runId = newId("prun");
  await env.DB.prepare(
    "INSERT INTO payoutRuns (id, trigger, actorUserId, cronDay, createdAt) VALUES (?, 'admin', ?, NULL, ?)",
  )
    .bind(runId, newId("usr"), at)
    .run();
  const r = await ledgerFor(env, tutorId).startPayout({
    userId: tutorId,
    runId,
    stripeAccountId: accountOf(tutorId),
    minimumCents: 1000,
    currency: "usd",
    at,
  });
  if (!r.ok || !r.started) throw new Error(`startPayout: ${JSON.stringify(r)}`);
  return r.payout;
}

export async function markPaid(tutorId: string, payoutId: string) {
  const r = await ledgerFor(env, tutorId).markPayoutPaid({
    payoutId,
    stripeTransferId: `tr_${payoutId}`,
    at: Date.now(),
  });
  if (!r.ok) throw new Error(`markPayoutPaid: ${JSON.stringify(r)}`);
  return r.payout;
}

export async function failPending(tutorId: string, payoutId: string) {
  const r = await ledgerFor(env, tutorId).failPayout({
    payoutId,
    reason: "account_closed",
    from: ["pending"],
    at: Date.now(),
  });
  if (!r.ok) throw new Error(`failPayout: ${JSON.stringify(r)}`);
  return r.payout;
}
