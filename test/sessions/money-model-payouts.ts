/**
 * The payout commands of the two-ledger money model (money-model.test.ts): payout runs (two at once,
 * as overlapping runs), a payout racing a settlement credit from a student's object, transfers made,
 * refused and reversed, each sent twice at once, and evictions of the tutor's object. After every
 * step `checkPayouts` holds the tutor's payouts to the model and the identity
 * balance = Σ session_earning − Σ payouts not failed, with one debit per payout and a reversal iff failed.
 */
import { evictDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import type { LedgerResult } from "../../src/ledger/types";
import { newId } from "../../src/lib/crypto";
import { env } from "../helpers/api";

export interface PayoutModel {
  id: string;
  amount: number;
  status: "pending" | "paid" | "failed";
}

/** The slice of the money model the payout commands read and move. */
export interface PayoutModelState {
  earnings: number;
  payouts: PayoutModel[];
}

export interface PayoutReal {
  tutorUserId: string;
}

export const TUTOR_ACCOUNT = "acct_model";

/** The tutor's Connect account, enabled: payouts need it (the run's step checks it in its batch). */
export const enablePayouts = (tutorUserId: string) =>
  env.DB.prepare(
    "INSERT INTO payoutAccounts (userId, stripeAccountId, payoutsEnabled, detailsSubmitted, stateAsOf, createdAt, updatedAt) VALUES (?, ?, 1, 1, 0, 0, 0)",
  )
    .bind(tutorUserId, `${TUTOR_ACCOUNT}_${tutorUserId}`)
    .run();

const pick = <T>(items: T[], n: number) => items[n % items.length] as T;
const tutor = (r: PayoutReal) => ledgerFor(env, r.tutorUserId);

export const startPayout = (r: PayoutReal, minimumCents: number) =>
  tutor(r).startPayout({
    userId: r.tutorUserId,
    runId: newId("prun"),
    stripeAccountId: `${TUTOR_ACCOUNT}_${r.tutorUserId}`,
    minimumCents,
    currency: "usd",
    at: Date.now(),
  });

type Started = Awaited<ReturnType<typeof startPayout>>;
const startedOf = (x: Started) => (x.ok && x.started ? x.payout : null);

const hasPending = (m: PayoutModelState) => m.payouts.some((p) => p.status === "pending");

/** Two runs at once: the tutor's object pays once, the whole balance, when eligible. */
export class RunPayouts {
  constructor(readonly minimum: number) {}
  check = () => true;
  async run(m: PayoutModelState, r: PayoutReal) {
    const results = await Promise.all([startPayout(r, this.minimum), startPayout(r, this.minimum)]);
    for (const x of results) expect(x.ok, `${this}`).toBe(true);
    const started = results.map(startedOf).filter((p) => p !== null);
    const eligible = !hasPending(m) && m.earnings >= this.minimum;
    expect(started.length, `${this} started`).toBe(eligible ? 1 : 0);
    const [p] = started;
    if (!p) return;
    expect(p.amountCents).toBe(m.earnings);
    m.payouts.push({ id: p.id, amount: p.amountCents, status: "pending" });
    m.earnings = 0;
  }
  toString = () => `RunPayouts(${this.minimum})`;
}

/**
 * A payout racing a settlement credit (two objects, one chain): the payout pays the balance it read,
 * before or after the credit; the chain stays whole either way. `step` is a money command of the
 * model (it moves `m.earnings` itself).
 */
export class PayoutRace<M extends PayoutModelState, R extends PayoutReal> {
  constructor(
    readonly minimum: number,
    readonly step: { check: (m: Readonly<M>) => boolean; run: (m: M, r: R) => Promise<void>; toString(): string },
  ) {}
  check = (m: Readonly<M>) => this.step.check(m);
  async run(m: M, r: R) {
    const before = m.earnings;
    const pending = hasPending(m);
    const [started] = await Promise.all([startPayout(r, this.minimum), this.step.run(m, r)]);
    const credited = m.earnings - before;
    expect(started.ok).toBe(true);
    const p = startedOf(started);
    if (p) {
      expect(pending).toBe(false);
      expect([before, before + credited]).toContain(p.amountCents);
      expect(p.amountCents).toBeGreaterThanOrEqual(this.minimum);
      m.payouts.push({ id: p.id, amount: p.amountCents, status: "pending" });
      m.earnings -= p.amountCents;
    } else {
      // refused: something pending, or it ran before the credit and the balance was short
      expect(pending || before < this.minimum, `${this} refused`).toBe(true);
    }
  }
  toString = () => `PayoutRace(${this.minimum}, ${this.step})`;
}

/** The transfer went through: pending → paid, sent twice at once (one replays). */
export class PayPayout {
  constructor(readonly n: number) {}
  check = (m: Readonly<PayoutModelState>) => m.payouts.length > 0;
  async run(m: PayoutModelState, r: PayoutReal) {
    const p = pick(m.payouts, this.n);
    const input = { payoutId: p.id, stripeTransferId: `tr_${p.id}`, at: Date.now() };
    const results = await Promise.all([tutor(r).markPayoutPaid(input), tutor(r).markPayoutPaid(input)]);
    if (p.status === "failed") {
      for (const x of results) expect(x).toMatchObject({ ok: false, code: "conflict" });
      return;
    }
    for (const x of results) expect(x.ok, `${this}`).toBe(true);
    if (p.status === "pending") expect(results.filter((x) => x.ok && !x.replayed)).toHaveLength(1);
    p.status = "paid";
  }
  toString = () => `PayPayout(${this.n})`;
}

/** A refusal (from pending) or a reversal (pending or paid), sent twice at once: one reversal credit. */
export class FailPayout {
  constructor(
    readonly n: number,
    readonly how: "refusal" | "reversal",
  ) {}
  check = (m: Readonly<PayoutModelState>) => m.payouts.length > 0;
  async run(m: PayoutModelState, r: PayoutReal) {
    const p = pick(m.payouts, this.n);
    const from: ("pending" | "paid")[] = this.how === "refusal" ? ["pending"] : ["pending", "paid"];
    const input = { payoutId: p.id, reason: this.how, from, at: Date.now() };
    const results: LedgerResult<unknown>[] = await Promise.all([
      tutor(r).failPayout(input),
      tutor(r).failPayout(input),
    ]);
    if (p.status === "failed") {
      for (const x of results) expect(x).toMatchObject({ ok: true, replayed: true });
      return;
    }
    if (!(from as string[]).includes(p.status)) {
      for (const x of results) expect(x).toMatchObject({ ok: false, code: "conflict" });
      return;
    }
    for (const x of results) expect(x.ok, `${this}`).toBe(true);
    expect(results.filter((x) => x.ok && !x.replayed)).toHaveLength(1);
    p.status = "failed";
    m.earnings += p.amount;
  }
  toString = () => `FailPayout(${this.n}, ${this.how})`;
}

export class EvictTutor {
  check = () => true;
  async run(_m: PayoutModelState, r: PayoutReal) {
    await evictDurableObject(tutor(r)).catch(() => undefined);
  }
  toString = () => "EvictTutor";
}

/** The payouts equal the model's; each has one debit and a reversal iff failed; the identity holds. */
export async function checkPayouts(m: PayoutModelState, r: PayoutReal) {
  const [rows, entries] = await env.DB.batch([
    env.DB.prepare("SELECT id, amountCents, status FROM payouts WHERE userId = ? ORDER BY createdAt, id").bind(
      r.tutorUserId,
    ),
    env.DB.prepare(
      "SELECT source, amountCents, payoutId, balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq",
    ).bind(r.tutorUserId),
  ]);
  const payouts = (rows?.results ?? []) as { id: string; amountCents: number; status: string }[];
  const ledger = (entries?.results ?? []) as {
    source: string;
    amountCents: number;
    payoutId: string | null;
    balanceAfterCents: number;
  }[];
  const byId = new Map(payouts.map((p) => [p.id, p]));
  expect(payouts.length, "payouts").toBe(m.payouts.length);
  for (const p of m.payouts) {
    expect(byId.get(p.id), `payout ${p.id}`).toMatchObject({ amountCents: p.amount, status: p.status });
    const own = ledger.filter((e) => e.payoutId === p.id);
    expect(
      own.map((e) => [e.source, e.amountCents]),
      `entries of payout ${p.id}`,
    ).toEqual(
      p.status === "failed"
        ? [
            ["payout", p.amount],
            ["payout_reversal", p.amount],
          ]
        : [["payout", p.amount]],
    );
  }
  const earned = ledger.filter((e) => e.source === "session_earning").reduce((a, e) => a + e.amountCents, 0);
  const notFailed = m.payouts.filter((p) => p.status !== "failed").reduce((a, p) => a + p.amount, 0);
  const balance = ledger.at(-1)?.balanceAfterCents ?? 0;
  expect(balance, "balance = Σ earnings − Σ payouts not failed").toBe(earned - notFailed);
}
