/**
 * GET /v1/admin/reconciliation over payouts made through the tutor's CreditLedger object: the cents
 * paid out, pending and failed, the tutor balance identity (ledger vs payouts table) and the payout
 * identity (one debit; one reversal iff failed), each broken where the triggers let it be broken.
 */
import { describe, expect, it } from "vitest";
import { insertEarning } from "../../src/ledger/earnings-sql";
import { newId } from "../../src/lib/crypto";
import type { ReconciliationView } from "../../src/modules/credits/schemas";
import { call, createUser, env, json } from "../helpers/api";
import { createSubject, createTutor, DAY, fund } from "../sessions/helpers";
import { earnLate, enablePayouts, failPending, markPaid, startPayout } from "./payout-world";

const broken = (r: ReconciliationView, prefix: string) =>
  r.identities.find((i) => i.name.startsWith(prefix))?.offendingIds ?? [];

const BALANCE = "tutor earnings balance = Σ session earnings";
const PAYOUT = "payout: exactly one payout debit";

/** A tutor paid once (1600), failed once (2100, returned) and with one payout pending (2100). */
async function payoutWorld() {
  const admin = await createUser("admin");
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = await createUser("student");
  await fund(student, 4);
  await enablePayouts(tutor.id);
  const from = Date.now() - 1000;
  const get = async (range = `from=${from}&to=${Date.now() + 10 * DAY}`) =>
    json<ReconciliationView>(await call(`/v1/admin/reconciliation?${range}`, { token: admin.token }));
  const before = await get();
  await earnLate(student, tutor, subject.id, 72);
  const paid = await markPaid(tutor.id, (await startPayout(tutor.id)).id);
  await earnLate(student, tutor, subject.id, 74);
  // a manual adjustment (no route writes one yet): the balance identity adds it with its sign
  await insertEarning(env.DB, {
    id: `ern_adj_${tutor.id}`,
    userId: tutor.id,
    type: "credit",
    amountCents: 500,
    currency: "usd",
    source: "manual_adjustment",
    sessionId: null,
    payoutId: null,
    description: "make-good",
    idempotencyKey: `adj:${tutor.id}`,
    createdAt: Date.now(),
  }).run();
  const failed = await failPending(tutor.id, (await startPayout(tutor.id)).id);
  const pending = await startPayout(tutor.id);
  return { admin, tutor, from, get, before, paid, failed, pending };
}

describe("reconciliation of payouts", () => {
  it("totals cents paid out, pending and failed, and balances when the payouts match the ledger", async () => {
    const w = await payoutWorld();
    expect([w.paid.status, w.paid.amountCents]).toEqual(["paid", 1600]);
    expect([w.failed.status, w.failed.amountCents]).toEqual(["failed", 2100]);
    expect([w.pending.status, w.pending.amountCents]).toEqual(["pending", 2100]);
    const after = await w.get();
    for (const i of after.identities) expect(i, i.name).toMatchObject({ holds: true, offendingIds: [] });
    expect(after.balanced).toBe(true);
    expect(after.cents.paidOut - w.before.cents.paidOut).toBe(1600);
    expect(after.cents.payoutsPending - w.before.cents.payoutsPending).toBe(2100);
    expect(after.cents.payoutsFailed - w.before.cents.payoutsFailed).toBe(2100);
    expect(after.cents.earningsAdjustedByAdmins - w.before.cents.earningsAdjustedByAdmins).toBe(500);
    const tutor = await json<{ earningsBalanceCents: number }>(
      await call(`/v1/admin/users/${w.tutor.id}`, { token: w.admin.token }),
    );
    expect(tutor.earningsBalanceCents).toBe(0); // 3200 earned + 500 adjusted − 1600 paid − 2100 pending
  });

  it("counts a payout in the range of its createdAt, not of its later update", async () => {
    const admin = await createUser("admin");
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 2 });
    const student = await createUser("student");
    await fund(student, 2);
    await enablePayouts(tutor.id);
    const get = async (from: number, to: number) =>
      json<ReconciliationView>(await call(`/v1/admin/reconciliation?from=${from}&to=${to}`, { token: admin.token }));
    const now = Date.now();
    const created = now - 40 * DAY - Math.floor(Math.random() * DAY); // a day no other test writes
    const then = () => get(created - 1, created + 1);
    const recent = () => get(now - DAY, now + DAY);
    const [thenBefore, recentBefore] = [await then(), await recent()];
    await earnLate(student, tutor, subject.id, 72);
    const payout = await startPayout(tutor.id, created);
    await markPaid(tutor.id, payout.id); // updatedAt = now
    const [thenAfter, recentAfter] = [await then(), await recent()];
    expect(thenAfter.cents.paidOut - thenBefore.cents.paidOut).toBe(1600);
    expect(recentAfter.cents.paidOut - recentBefore.cents.paidOut).toBe(0);
    expect(recentAfter.cents.payoutsPending - recentBefore.cents.payoutsPending).toBe(0);
    expect(broken(thenAfter, PAYOUT)).not.toContain(payout.id);
    expect(broken(thenAfter, BALANCE)).not.toContain(tutor.id);
  });

  it("names the tutor and the payout when a paid payout also has a reversal (the triggers allow it)", async () => {
    const w = await payoutWorld();
    expect((await w.get()).balanced).toBe(true);
    // The reversal trigger accepts a reversal of a debited payout that is pending OR paid (a
    // transfer.reversed arrives for a paid one): written without turning the payout failed, the
    // chain still adds up, and only the cross-check against the payouts table sees it.
    await insertEarning(env.DB, {
      id: `ern_rev_${w.paid.id}`,
      userId: w.tutor.id,
      type: "credit",
      amountCents: w.paid.amountCents,
      currency: "usd",
      source: "payout_reversal",
      sessionId: null,
      payoutId: w.paid.id,
      description: "stray reversal",
      idempotencyKey: `stray-reversal:${w.paid.id}`,
      createdAt: Date.now(),
    }).run();
    const r = await w.get();
    expect(r.balanced).toBe(false);
    expect(broken(r, BALANCE)).toContain(w.tutor.id);
    expect(broken(r, PAYOUT)).toContain(w.paid.id);
    for (const id of [w.failed.id, w.pending.id]) expect(broken(r, PAYOUT)).not.toContain(id);
    expect(broken(r, "tutor earnings balance = Σ earnings credits")).not.toContain(w.tutor.id);
  });

  it("names a pending payout written without its debit (a payout is born pending; its debit is a separate row)", async () => {
    const w = await payoutWorld();
    // the triggers refuse a debit without its payout, not a payout without its debit: the step writes both in one batch
    const other = newId("usr");
    const payoutId = newId("pay");
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO payouts (id, userId, runId, amountCents, currency, stripeAccountId, status, createdAt, updatedAt)
VALUES (?, ?, ?, 900, 'usd', 'acct_x', 'pending', ?, ?)`,
    )
      .bind(payoutId, other, newId("prun"), now, now)
      .run();
    const r = await w.get();
    expect(r.balanced).toBe(false);
    expect(broken(r, PAYOUT)).toContain(payoutId);
    expect(broken(r, BALANCE)).toContain(other);
    for (const id of [w.paid.id, w.failed.id, w.pending.id]) expect(broken(r, PAYOUT)).not.toContain(id);
    expect(broken(r, BALANCE)).not.toContain(w.tutor.id);
  });
});
