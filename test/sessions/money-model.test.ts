/**
 * Model-based property test of a session's money across the two ledgers: random command sequences
 * (funding, purchases and full card refunds that may leave a student in debt, bookings, every
 * lifecycle step, evictions) for two students and one tutor run against the real CreditLedger
 * Durable Objects and D1, next to a plain model of API.md "Money of a session" and "Lifecycle".
 *
 * Money-moving steps go through CreditLedger.settleSession with the from/set/refund each transition
 * uses; the non-money steps (start, complete, student no-show, dispute) are the conditional UPDATE
 * guarded by a fresh transitionId. Every step is sent twice at once (exactly one may win), and a
 * `Pair` settles two sessions of the two students at once (two objects appending to one tutor's
 * earnings chain). After EVERY step: per session creditsCost = refunded + earned + held and the row
 * equals the model; both students' chains and the tutor's chain are intact (seq 1..n, balance =
 * previous ± amount), the balances equal the model's, and a balance is negative only after a
 * purchase_reversal. Payouts (money-model-payouts.ts) run in the tutor's object against those credits:
 * two runs at once, a run racing a settlement, transfers paid, refused and reversed, each twice at
 * once; after every step the tutor's balance = Σ session_earning − Σ payouts not failed.
 */

import { evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CancelledBy, NoShowParty, SessionStatus, SettlementStatus } from "../../src/db/schema";
import { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import { assertChain, createPendingOrder, ledgerRows } from "../credits/helpers";
import { env } from "../helpers/api";
import { testClaim } from "../helpers/claims";
import {
  checkPayouts,
  EvictTutor,
  enablePayouts,
  FailPayout,
  type PayoutModel,
  PayoutRace,
  PayPayout,
  RunPayouts,
} from "./money-model-payouts";
import { BookSeries } from "./money-model-series";

const CENTS = 800;
const t0 = Date.UTC(2031, 0, 1);
const pick = <T>(items: T[], n: number) => items[n % items.length] as T;

interface SessionModel {
  id: string;
  student: number;
  cost: number;
  status: SessionStatus;
  settlement: SettlementStatus;
  refunded: number;
  earned: number;
}
interface OrderModel {
  id: string;
  student: number;
  credits: number;
  cents: number;
  refunded: boolean;
}
interface Model {
  balances: number[];
  earnings: number;
  sessions: SessionModel[];
  orders: OrderModel[];
  booked: number;
  payouts: PayoutModel[];
}
interface Real {
  students: { userId: string; stub: ReturnType<typeof ledgerFor> }[];
  tutorUserId: string;
  tutorProfileId: string;
}
type Cmd = fc.AsyncCommand<Model, Real>;

// ---- the transitions (API.md "Lifecycle")

type Open = Extract<SettlementStatus, "open" | "disputed">;
interface MoneyKind {
  from: { status: SessionStatus[]; settlement: Open[] };
  set?: { status?: SessionStatus; cancelledBy?: CancelledBy; cancellationReason?: string | null; noShow?: NoShowParty };
  /** Credits back to the student for a session of `cost` (the resolve's r may be out of range). */
  refund: (cost: number, r: number) => "all" | number;
}
const scheduledOpen = { status: ["scheduled"] as SessionStatus[], settlement: ["open"] as Open[] };
const money = {
  earlyCancel: {
    from: scheduledOpen,
    set: { status: "cancelled", cancelledBy: "student", cancellationReason: "early" },
    refund: () => "all",
  },
  lateCancel: {
    from: scheduledOpen,
    set: { status: "cancelled", cancelledBy: "student", cancellationReason: "late" },
    refund: () => 0,
  },
  tutorNoShow: {
    from: scheduledOpen,
    set: { status: "cancelled", cancelledBy: "tutor", cancellationReason: null, noShow: "tutor" },
    refund: () => "all",
  },
  notHeld: {
    from: scheduledOpen,
    set: { status: "cancelled", cancelledBy: "system", cancellationReason: "not_held" },
    refund: () => "all",
  },
  settleAfterHold: { from: { status: ["completed"], settlement: ["open"] }, refund: () => 0 },
  resolve: { from: { status: ["completed"], settlement: ["disputed", "open"] }, refund: (_c, r) => r },
} satisfies Record<string, MoneyKind>;
type MoneyName = keyof typeof money;

interface RawKind {
  from: { status: SessionStatus[]; settlement: Open[] };
  status?: SessionStatus;
  settlement?: Open;
  noShow?: NoShowParty;
}
const raw = {
  start: { from: scheduledOpen, status: "in_progress" },
  complete: { from: { status: ["in_progress"], settlement: ["open"] }, status: "completed" },
  studentNoShow: {
    from: { status: ["scheduled", "in_progress"], settlement: ["open"] },
    status: "completed",
    noShow: "student",
  },
  dispute: { from: { status: ["completed"], settlement: ["open"] }, settlement: "disputed" },
} satisfies Record<string, RawKind>;
type RawName = keyof typeof raw;

const allowed = (s: SessionModel, from: MoneyKind["from"]) =>
  from.status.includes(s.status) && (from.settlement as SettlementStatus[]).includes(s.settlement);

function settleStep(r: Real, s: SessionModel, kind: MoneyKind, refundArg: number) {
  const student = r.students[s.student] as Real["students"][number];
  return student.stub.settleSession({
    at: Date.now(),
    sessionId: s.id,
    studentUserId: student.userId,
    tutorUserId: r.tutorUserId,
    from: kind.from,
    ...(kind.set ? { set: kind.set } : {}),
    refund: kind.refund(s.cost, refundArg),
    centsPerCredit: CENTS,
    currency: "usd",
    notify: [],
  });
}

/** What the model says a money step does: null when it must be refused. */
function moneyOutcome(s: SessionModel, kind: MoneyKind, refundArg: number) {
  if (!allowed(s, kind.from)) return null;
  const want = kind.refund(s.cost, refundArg);
  const refunded = want === "all" ? s.cost : want;
  if (refunded < 0 || refunded > s.cost) return null;
  return { refunded, earned: s.cost - refunded, status: kind.set?.status ?? s.status };
}

function applyMoney(m: Model, s: SessionModel, o: NonNullable<ReturnType<typeof moneyOutcome>>) {
  s.refunded = o.refunded;
  s.earned = o.earned;
  s.status = o.status;
  s.settlement = o.earned > 0 ? "settled" : "refunded";
  m.balances[s.student] = (m.balances[s.student] as number) + o.refunded;
  m.earnings += o.earned * CENTS;
}

// ---- commands

class Fund implements Cmd {
  constructor(
    readonly student: number,
    readonly credits: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const st = r.students[this.student] as Real["students"][number];
    const out = await st.stub.adjust({
      at: Date.now(),
      userId: st.userId,
      type: "credit",
      amount: this.credits,
      description: "funds",
      key: newId("k"),
    });
    expect(out.ok).toBe(true);
    m.balances[this.student] = (m.balances[this.student] as number) + this.credits;
  }
  toString = () => `Fund(${this.student}, ${this.credits})`;
}

class Purchase implements Cmd {
  constructor(
    readonly student: number,
    readonly credits: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const st = r.students[this.student] as Real["students"][number];
    const cents = this.credits * 100;
    const id = await createPendingOrder(st.userId, this.credits, cents);
    expect(await st.stub.creditPurchase(st.userId, id, Date.now())).toMatchObject({ ok: true, replayed: false });
    m.balances[this.student] = (m.balances[this.student] as number) + this.credits;
    m.orders.push({ id, student: this.student, credits: this.credits, cents, refunded: false });
  }
  toString = () => `Purchase(${this.student}, ${this.credits})`;
}

/** A full `charge.refunded`: reverses the whole order once, even into debt. */
class CardRefund implements Cmd {
  constructor(readonly n: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.n);
    const st = r.students[o.student] as Real["students"][number];
    const out = await st.stub.applyCardRefund({
      userId: st.userId,
      orderId: o.id,
      eventId: `evt_${newId("r")}`,
      amountRefunded: o.cents,
      chargeAmount: o.cents,
      at: Date.now(),
    });
    const reversed = o.refunded ? 0 : o.credits;
    expect(out).toMatchObject({ ok: true, reversed });
    o.refunded = true;
    m.balances[o.student] = (m.balances[o.student] as number) - reversed;
  }
  toString = () => `CardRefund(${this.n})`;
}

class Book implements Cmd {
  constructor(
    readonly student: number,
    readonly cost: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const st = r.students[this.student] as Real["students"][number];
    const id = newId("ses");
    // one slot per booking: never overlapping for the tutor or either student
    const start = t0 + m.booked++ * 3 * 3_600_000;
    const out = await st.stub.bookSession({
      at: Date.now(),
      userId: st.userId,
      sessionId: id,
      tutorUserId: r.tutorUserId,
      claim: testClaim(r.tutorProfileId, `stu-${st.userId}`, start, start + 3_600_000),
      subjectId: "sub",
      creditsCost: this.cost,
      description: "session",
    });
    if ((m.balances[this.student] as number) >= this.cost) {
      expect(out.ok).toBe(true);
      m.balances[this.student] = (m.balances[this.student] as number) - this.cost;
      m.sessions.push({
        id,
        student: this.student,
        cost: this.cost,
        status: "scheduled",
        settlement: "open",
        refunded: 0,
        earned: 0,
      });
    } else {
      expect(out).toMatchObject({ ok: false, code: "insufficient_credits" });
    }
  }
  toString = () => `Book(${this.student}, ${this.cost})`;
}

/** A money step sent twice at once: exactly one wins when the model allows it, none otherwise. */
class Money implements Cmd {
  constructor(
    readonly kind: MoneyName,
    readonly n: number,
    readonly r = 0,
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.n);
    const kind: MoneyKind = money[this.kind];
    const outcome = moneyOutcome(s, kind, this.r);
    const results = await Promise.all([settleStep(r, s, kind, this.r), settleStep(r, s, kind, this.r)]);
    const wins = results.filter((x) => x.ok);
    if (!outcome) {
      expect(wins).toHaveLength(0);
      for (const x of results) expect(x).toMatchObject({ ok: false, code: "conflict" });
      return;
    }
    expect(wins).toHaveLength(1);
    expect(wins[0]).toMatchObject({
      ok: true,
      refundedCredits: outcome.refunded,
      earnedCredits: outcome.earned,
      tutorEarningsCents: outcome.earned * CENTS,
    });
    expect(results.find((x) => !x.ok)).toMatchObject({ ok: false, code: "conflict" });
    applyMoney(m, s, outcome);
  }
  toString = () => `Money(${this.kind}, ${this.n}${this.kind === "resolve" ? `, r=${this.r}` : ""})`;
}

/** Two money steps on two different sessions (of either student) at the same moment: both apply. */
class Pair implements Cmd {
  constructor(
    readonly a: Money,
    readonly b: Money,
  ) {}
  check = (m: Readonly<Model>) => {
    if (m.sessions.length < 2) return false;
    return pick(m.sessions, this.a.n).id !== pick(m.sessions, this.b.n).id;
  };
  async run(m: Model, r: Real) {
    const steps = [this.a, this.b].map((c) => {
      const s = pick(m.sessions, c.n);
      const kind: MoneyKind = money[c.kind];
      return { s, kind, c, outcome: moneyOutcome(s, kind, c.r) };
    });
    const results = await Promise.all(steps.map((x) => settleStep(r, x.s, x.kind, x.c.r)));
    steps.forEach((x, i) => {
      expect(results[i]?.ok, `${x.c} in a pair`).toBe(x.outcome !== null);
      if (x.outcome) applyMoney(m, x.s, x.outcome);
    });
  }
  toString = () => `Pair(${this.a}, ${this.b})`;
}

/** A non-money step: the conditional UPDATE with a fresh transitionId, sent twice at once. */
class Raw implements Cmd {
  constructor(
    readonly kind: RawName,
    readonly n: number,
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(m: Model, _r: Real) {
    const s = pick(m.sessions, this.n);
    const k: RawKind = raw[this.kind];
    const update = () => {
      const at = Date.now();
      return env.DB.prepare(
        `UPDATE sessions SET status = COALESCE(?, status), settlementStatus = COALESCE(?, settlementStatus),
  noShow = COALESCE(?, noShow), disputedAt = CASE WHEN ? = 'disputed' THEN ? ELSE disputedAt END,
  transitionId = ?, updatedAt = ?
WHERE id = ? AND status IN (${k.from.status.map(() => "?").join(", ")}) AND settlementStatus IN (${k.from.settlement.map(() => "?").join(", ")})`,
      )
        .bind(
          k.status ?? null,
          k.settlement ?? null,
          k.noShow ?? null,
          k.settlement ?? null,
          at,
          newId("trn"),
          at,
          s.id,
          ...k.from.status,
          ...k.from.settlement,
        )
        .run();
    };
    const results = await Promise.all([update(), update()]);
    const changed = results.reduce((a, x) => a + x.meta.changes, 0);
    if (!allowed(s, k.from)) {
      expect(changed).toBe(0);
      return;
    }
    expect(changed).toBe(1);
    s.status = k.status ?? s.status;
    s.settlement = k.settlement ?? s.settlement;
  }
  toString = () => `Raw(${this.kind}, ${this.n})`;
}

class Evict implements Cmd {
  constructor(readonly student: number) {}
  check = () => true;
  async run(_m: Model, r: Real) {
    const st = r.students[this.student] as Real["students"][number];
    await evictDurableObject(st.stub).catch(() => undefined);
    st.stub = ledgerFor(env, st.userId);
  }
  toString = () => `Evict(${this.student})`;
}

// ---- the invariants, after every step

interface EarningRow {
  seq: number;
  type: string;
  amountCents: number;
  balanceAfterCents: number;
  source: string;
  sessionId: string | null;
}

async function checkInvariants(m: Model, r: Real) {
  for (const [i, st] of r.students.entries()) {
    const rows = await ledgerRows(st.userId);
    // seq 1..n, balanceAfter = previous ± amount, keys unique, below zero only by a purchase_reversal
    expect(assertChain(rows, { reversalsMayGoNegative: true }), `student ${i} balance`).toBe(m.balances[i]);
    for (const s of m.sessions.filter((x) => x.student === i)) {
      const refunds = rows.filter((x) => x.source === "session_refund" && x.idempotencyKey === `refund:${s.id}`);
      expect(
        refunds.map((x) => x.amount),
        `refund entries of ${s.id}`,
      ).toEqual(s.refunded > 0 ? [s.refunded] : []);
    }
  }

  const earnings = (
    await env.DB.prepare(
      "SELECT seq, type, amountCents, balanceAfterCents, source, sessionId FROM earningsLedger WHERE userId = ? ORDER BY seq",
    )
      .bind(r.tutorUserId)
      .all<EarningRow>()
  ).results;
  let prev = 0;
  earnings.forEach((e, i) => {
    expect(e.seq, "tutor chain seq").toBe(i + 1);
    prev += e.type === "credit" ? e.amountCents : -e.amountCents;
    expect(e.balanceAfterCents, `tutor balance at seq ${e.seq}`).toBe(prev);
    expect(e.balanceAfterCents).toBeGreaterThanOrEqual(0);
  });
  expect(prev, "tutor earnings").toBe(m.earnings);
  await checkPayouts(m, r);

  if (m.sessions.length === 0) return;
  const { results } = await env.DB.prepare(
    `SELECT id, creditsCost, status, settlementStatus, refundedCredits, earnedCredits, tutorEarningsCents, refunded FROM sessions WHERE id IN (${m.sessions.map(() => "?").join(", ")})`,
  )
    .bind(...m.sessions.map((s) => s.id))
    .all<{
      id: string;
      creditsCost: number;
      status: string;
      settlementStatus: string;
      refundedCredits: number;
      earnedCredits: number;
      tutorEarningsCents: number;
      refunded: number;
    }>();
  const byId = new Map(results.map((x) => [x.id, x]));
  for (const s of m.sessions) {
    const row = byId.get(s.id);
    const held = row && (row.settlementStatus === "open" || row.settlementStatus === "disputed") ? row.creditsCost : 0;
    expect(row && row.refundedCredits + row.earnedCredits + held, `split of ${s.id}`).toBe(row?.creditsCost);
    expect(row, `session ${s.id}`).toMatchObject({
      creditsCost: s.cost,
      status: s.status,
      settlementStatus: s.settlement,
      refundedCredits: s.refunded,
      earnedCredits: s.earned,
      tutorEarningsCents: s.earned * CENTS,
      refunded: s.refunded > 0 ? 1 : 0,
    });
    const own = earnings.filter((e) => e.source === "session_earning" && e.sessionId === s.id);
    expect(
      own.map((e) => e.amountCents),
      `earning entries of ${s.id}`,
    ).toEqual(s.earned > 0 ? [s.earned * CENTS] : []);
  }
}

describe("two-ledger money model (student credits, tutor earnings, session states)", () => {
  it("every step keeps creditsCost = refunded + earned + held, both chains intact and the balances of the model", async () => {
    const nat = fc.nat(40);
    const student = fc.integer({ min: 0, max: 1 });
    const refund = fc.integer({ min: 0, max: 7 }); // a resolve's r: beyond the cost it must be refused
    const moneyOf = (...names: MoneyName[]) =>
      fc.tuple(fc.constantFrom(...names), nat, refund).map(([k, n, r]) => new Money(k, n, r));
    // before the lesson (they end a session early), and after it (they need a completed one first)
    const early = moneyOf("earlyCancel", "lateCancel", "tutorNoShow", "notHeld");
    const late = moneyOf("settleAfterHold", "resolve", "resolve");
    const minimum = fc.constantFrom(1, CENTS, 2000, 100_000);
    const rawCmd = fc
      .tuple(fc.constantFrom<RawName>(...(Object.keys(raw) as RawName[])), nat)
      .map(([k, n]) => new Raw(k, n));
    const commands = [
      fc.tuple(student, fc.integer({ min: 1, max: 12 })).map(([s, n]) => new Fund(s, n)),
      fc.tuple(student, fc.integer({ min: 1, max: 8 })).map(([s, n]) => new Purchase(s, n)),
      nat.map((n) => new CardRefund(n)),
      fc.tuple(student, fc.integer({ min: 1, max: 6 })).map(([s, c]) => new Book(s, c)),
      fc.tuple(student, fc.integer({ min: 1, max: 6 })).map(([s, c]) => new Book(s, c)),
      fc
        .tuple(student, fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.boolean())
        .map(([s, n, c, collide]) => new BookSeries<Model, Real>(t0, s, n, c, collide)),
      early,
      late,
      late,
      fc.tuple(fc.oneof(early, late), late).map(([a, b]) => new Pair(a, b)),
      rawCmd,
      rawCmd,
      rawCmd,
      student.map((s) => new Evict(s)),
      // payouts (the tutor's object) against settlements (the students' objects) on one chain
      minimum.map((min) => new RunPayouts(min)),
      fc.tuple(minimum, fc.oneof(early, late)).map(([min, step]) => new PayoutRace<Model, Real>(min, step)),
      nat.map((n) => new PayPayout(n)),
      fc.tuple(nat, fc.constantFrom("refusal" as const, "reversal" as const)).map(([n, how]) => new FailPayout(n, how)),
      fc.constant(new EvictTutor()),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: "max" }), async (cmds) => {
        const ids = [newId("usr"), newId("usr")];
        const real: Real = {
          students: ids.map((userId) => ({ userId, stub: ledgerFor(env, userId) })),
          tutorUserId: newId("usr"),
          tutorProfileId: newId("tut"),
        };
        const model: Model = { balances: [0, 0], earnings: 0, sessions: [], orders: [], booked: 0, payouts: [] };
        await enablePayouts(real.tutorUserId);
        for (const cmd of cmds) {
          if (!cmd.check(model)) continue;
          await cmd.run(model, real);
          await checkInvariants(model, real);
        }
      }),
      { numRuns: 60 },
    );
  });
});
