/**
 * Model-based property test of one user's CreditLedger: random command sequences (purchases, debits,
 * credits, bookings, cancellations, bursts, evictions, and the money that comes back out of a
 * purchase: card refunds with replays and out-of-order events, disputes, admin refunds and their undo)
 * run against the real Durable Object and D1, next to a plain model of what the API contract says.
 * After every step the ledger, the orders and the model must agree (see `checkInvariants`).
 */

import { evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import { env } from "../helpers/api";
import { testClaim } from "../helpers/claims";
import { assertChain, balance, createPendingOrder, ledgerRows, type Row } from "./helpers";

type Stub = ReturnType<typeof ledgerFor>;

interface RefundEvent {
  eventId: string;
  amountRefunded: number;
  /** Credits its first application reversed (0: it wrote no entry, so its key is still free). */
  applied: number;
}
interface OrderModel {
  id: string;
  credits: number;
  cents: number;
  reversed: number;
  disputeReversed: number;
  refundedCents: number;
  /** The highest amount_refunded Stripe reported: an undone admin refund never takes refundedCents below it. */
  stripeRefundedCents: number;
  dispute: "open" | "won" | "lost" | null;
  disputeId: string | null;
  events: RefundEvent[];
}
interface AdminRefundModel {
  key: string;
  orderId: string;
  credits: number;
  cents: number;
  refundId: string;
  pending: boolean;
}
interface Model {
  balance: number;
  orders: OrderModel[];
  sessions: { id: string; cost: number; cancelled: boolean }[];
  adminRefunds: AdminRefundModel[];
}
interface Real {
  userId: string;
  stub: Stub;
}
type Cmd = fc.AsyncCommand<Model, Real>;

const t0 = Date.UTC(2030, 0, 1);
const CENTS_PER_CREDIT = 100;
const pick = <T>(items: T[], n: number) => items[n % items.length] as T;
const studentProfile = (r: Real) => `stu-${r.userId}`;

// ---- what the contract says a card refund does (API.md "Payments after the fact")

/** Credits a `charge.refunded` with cumulative `amountRefunded` reverses now. */
function cardRefundCredits(o: OrderModel, amountRefunded: number) {
  const target = Math.min(o.credits, Math.ceil((o.credits * amountRefunded) / o.cents));
  const byRefunds = o.reversed - o.disputeReversed; // admin refunds count: "none when an admin refund already reversed them"
  return Math.max(0, Math.min(target - byRefunds, o.credits - o.reversed));
}

function applyCardRefundToModel(m: Model, o: OrderModel, amountRefunded: number, credits: number) {
  o.reversed += credits;
  o.stripeRefundedCents = Math.min(o.cents, Math.max(o.stripeRefundedCents, amountRefunded));
  o.refundedCents = Math.max(o.refundedCents, o.stripeRefundedCents);
  m.balance -= credits;
}

async function sendCardRefund(r: Real, o: OrderModel, e: { eventId: string; amountRefunded: number }) {
  return r.stub.applyCardRefund({
    userId: r.userId,
    orderId: o.id,
    eventId: e.eventId,
    amountRefunded: e.amountRefunded,
    chargeAmount: o.cents,
    at: Date.now(),
  });
}

// ---- commands that existed before money could come back out

class Purchase implements Cmd {
  constructor(readonly credits: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const orderId = await createPendingOrder(r.userId, this.credits, this.credits * CENTS_PER_CREDIT);
    const out = await r.stub.creditPurchase(r.userId, orderId, Date.now());
    expect(out).toMatchObject({ ok: true, replayed: false });
    m.balance += this.credits;
    m.orders.push({
      id: orderId,
      credits: this.credits,
      cents: this.credits * CENTS_PER_CREDIT,
      reversed: 0,
      disputeReversed: 0,
      refundedCents: 0,
      stripeRefundedCents: 0,
      dispute: null,
      disputeId: null,
      events: [],
    });
  }
  toString = () => `Purchase(${this.credits})`;
}

class ReplayPurchase implements Cmd {
  constructor(readonly n: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.n);
    // A completed order is credited once, whatever came back out of it since.
    expect(await r.stub.creditPurchase(r.userId, o.id, Date.now())).toMatchObject({ ok: true, replayed: true });
  }
  toString = () => `ReplayPurchase(${this.n})`;
}

class Adjust implements Cmd {
  constructor(
    readonly type: "credit" | "debit",
    readonly amount: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const out = await r.stub.adjust({
      at: Date.now(),
      userId: r.userId,
      type: this.type,
      amount: this.amount,
      description: this.type,
      key: newId("k"),
    });
    if (this.type === "credit") {
      expect(out.ok).toBe(true);
      m.balance += this.amount;
    } else if (m.balance >= this.amount) {
      expect(out.ok).toBe(true);
      m.balance -= this.amount;
    } else {
      expect(out).toMatchObject({ ok: false, code: "insufficient_credits" });
    }
  }
  toString = () => `${this.type === "credit" ? "Credit" : "Debit"}(${this.amount})`;
}

async function book(m: Model, r: Real, cost: number) {
  const id = newId("ses");
  const start = t0 + m.sessions.length * 3_600_000;
  const out = await r.stub.bookSession({
    at: Date.now(),
    userId: r.userId,
    sessionId: id,
    tutorUserId: newId("usr"),
    claim: testClaim(newId("tut"), studentProfile(r), start, start + 1_800_000),
    subjectId: "sub",
    creditsCost: cost,
    description: "session",
  });
  return { id, out };
}

class Book implements Cmd {
  constructor(readonly cost: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const { id, out } = await book(m, r, this.cost);
    // balance ≥ cost, also when the balance is negative after a reversal: a user in debt cannot book.
    if (m.balance >= this.cost) {
      expect(out.ok).toBe(true);
      m.balance -= this.cost;
      m.sessions.push({ id, cost: this.cost, cancelled: false });
    } else {
      expect(out).toMatchObject({ ok: false, code: "insufficient_credits" });
      m.sessions.push({ id, cost: this.cost, cancelled: true });
    }
  }
  toString = () => `Book(${this.cost})`;
}

class Cancel implements Cmd {
  constructor(readonly n: number) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(m: Model, r: Real) {
    const s = pick(m.sessions, this.n);
    const cancel = () =>
      r.stub.settleSession({
        at: Date.now(),
        studentUserId: r.userId,
        sessionId: s.id,
        tutorUserId: "t",
        from: { status: ["scheduled"], settlement: ["open"] },
        set: { status: "cancelled", cancelledBy: "student", cancellationReason: null },
        refund: "all",
        centsPerCredit: 800,
        currency: "usd",
        notify: [],
      });
    const oks = (await Promise.all([cancel(), cancel()])).filter((x) => x.ok);
    if (s.cancelled) {
      expect(oks).toHaveLength(0);
    } else {
      expect(oks).toHaveLength(1);
      s.cancelled = true;
      m.balance += s.cost;
    }
  }
  toString = () => `Cancel(${this.n})`;
}

class Evict implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    await evictDurableObject(r.stub).catch(() => undefined);
    r.stub = ledgerFor(env, r.userId);
  }
  toString = () => "Evict";
}

class Burst implements Cmd {
  constructor(readonly n: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const results = await Promise.all(
      Array.from({ length: this.n }, () =>
        r.stub.adjust({
          at: Date.now(),
          userId: r.userId,
          type: "debit",
          amount: 1,
          description: "burst",
          key: newId("k"),
        }),
      ),
    );
    const expected = Math.max(0, Math.min(this.n, m.balance));
    expect(results.filter((x) => x.ok)).toHaveLength(expected);
    m.balance -= expected;
  }
  toString = () => `Burst(${this.n})`;
}

// ---- money after the fact

/** `charge.refunded` with a new event id: partial (permille of the charge) or full (1000). */
class CardRefund implements Cmd {
  constructor(
    readonly n: number,
    readonly permille: number,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.n);
    // A lower amount than one seen before is an older event delivered late: it must reverse nothing.
    const amountRefunded = Math.ceil((o.cents * this.permille) / 1000);
    const eventId = `evt_${newId("r")}`;
    const credits = cardRefundCredits(o, amountRefunded);
    const out = await sendCardRefund(r, o, { eventId, amountRefunded });
    expect(out).toMatchObject({ ok: true, reversed: credits, reinstated: 0 });
    applyCardRefundToModel(m, o, amountRefunded, credits);
    o.events.push({ eventId, amountRefunded, applied: credits });
  }
  toString = () => `CardRefund(${this.n}, ${this.permille}‰)`;
}

/** The same `charge.refunded` delivered again (Stripe retries), possibly after later events. */
class ReplayCardRefund implements Cmd {
  constructor(
    readonly n: number,
    readonly e: number,
  ) {}
  check = (m: Readonly<Model>) => {
    const withEvents = m.orders.filter((o) => o.events.length > 0);
    if (withEvents.length === 0) return false;
    // (a replay after an undone admin refund reverses the credits the undo gave back: it used to move
    // the order without a ledger entry, found by this property; see the regression in ledger.test.ts)
    return true;
  };
  async run(m: Model, r: Real) {
    const o = pick(
      m.orders.filter((x) => x.events.length > 0),
      this.n,
    );
    const e = pick(o.events, this.e);
    const credits = cardRefundCredits(o, e.amountRefunded);
    const out = await sendCardRefund(r, o, e);
    expect(out).toMatchObject({ ok: true, reversed: credits, reinstated: 0 });
    applyCardRefundToModel(m, o, e.amountRefunded, credits);
    if (e.applied === 0) e.applied = credits;
  }
  toString = () => `ReplayCardRefund(${this.n}, ${this.e})`;
}

/** charge.dispute.created (open) / closed (won | lost); `other` is a second dispute on the same order. */
class Dispute implements Cmd {
  constructor(
    readonly n: number,
    readonly status: "open" | "won" | "lost",
    readonly other: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real) {
    const o = pick(m.orders, this.n);
    const disputeId = this.other ? `dp_other_${newId("d")}` : `dp_${o.id}`;
    const out = await r.stub.applyDispute({
      userId: r.userId,
      orderId: o.id,
      disputeId,
      status: this.status,
      at: Date.now(),
    });
    if (o.disputeId !== null && o.disputeId !== disputeId) {
      expect(out).toMatchObject({ ok: false, code: "conflict" });
      return;
    }
    let reversed = 0;
    let reinstated = 0;
    const settled = o.dispute === "won" || o.dispute === "lost";
    if (settled || (this.status === "open" && o.dispute === "open")) {
      // A closed dispute never moves again; a repeated `created` changes nothing.
    } else if (this.status === "won") {
      // Reinstates what the dispute reversed, once (nothing when it closes before it was opened).
      reinstated = o.disputeReversed;
      o.reversed -= reinstated;
      o.disputeReversed = 0;
      o.dispute = "won";
      o.disputeId = disputeId;
    } else {
      // open: reverses every credit not yet reversed; lost before open does the same; lost after open keeps it.
      reversed = o.dispute === "open" ? 0 : o.credits - o.reversed;
      o.reversed += reversed;
      o.disputeReversed += reversed;
      o.dispute = this.status;
      o.disputeId = disputeId;
    }
    expect(out).toMatchObject({ ok: true, reversed, reinstated });
    m.balance += reinstated - reversed;
  }
  toString = () => `Dispute(${this.n}, ${this.status}${this.other ? ", other" : ""})`;
}

/** An admin refund's reversal (written before Stripe is asked); `reuse` replays an earlier key. */
class AdminRefund implements Cmd {
  constructor(
    readonly n: number,
    readonly credits: number,
    readonly reuse: number | null,
  ) {}
  check = (m: Readonly<Model>) => m.orders.length > 0 && (this.reuse === null || m.adminRefunds.length > 0);
  async run(m: Model, r: Real) {
    const earlier = this.reuse === null ? null : pick(m.adminRefunds, this.reuse);
    const o = earlier ? (m.orders.find((x) => x.id === earlier.orderId) as OrderModel) : pick(m.orders, this.n);
    const credits = this.credits;
    const cents = Math.max(1, Math.floor((credits * o.cents) / o.credits));
    const key = earlier?.key ?? newId("adm");
    const out = await r.stub.reverseForAdminRefund({
      userId: r.userId,
      orderId: o.id,
      credits,
      cents,
      key,
      actorUserId: "admin",
      at: Date.now(),
    });
    if (earlier && credits !== earlier.credits) {
      // The key names one refund: reused for another amount it is refused, never a second refund.
      expect(out).toMatchObject({ ok: false, code: "idempotency_conflict" });
      return;
    }
    if (earlier) {
      // Same key, same order and credits: the first refund, nothing moves again.
      expect(out).toMatchObject({ ok: true, replayed: true, reversed: 0, refundId: earlier.refundId });
      return;
    }
    // Never more than what is left of the order, never more than the student holds, never more cents than paid.
    const refusable = credits > o.credits - o.reversed || credits > m.balance || o.refundedCents + cents > o.cents;
    if (refusable) {
      expect(out).toMatchObject({ ok: false, code: "conflict" });
      return;
    }
    expect(out).toMatchObject({ ok: true, replayed: false, reversed: credits });
    if (!out.ok) return;
    o.reversed += credits;
    o.refundedCents += cents;
    m.balance -= credits;
    m.adminRefunds.push({ key, orderId: o.id, credits, cents, refundId: out.refundId, pending: true });
  }
  toString = () => `AdminRefund(${this.n}, ${this.credits}${this.reuse === null ? "" : `, reuse ${this.reuse}`})`;
}

/** Stripe refused the admin refund: its credits are reinstated, once. */
class UndoAdminRefund implements Cmd {
  constructor(readonly n: number) {}
  check = (m: Readonly<Model>) => m.adminRefunds.length > 0;
  async run(m: Model, r: Real) {
    const a = pick(m.adminRefunds, this.n);
    const o = m.orders.find((x) => x.id === a.orderId) as OrderModel;
    const out = await r.stub.undoAdminRefund({
      userId: r.userId,
      refundId: a.refundId,
      reason: "card_declined",
      at: Date.now(),
    });
    const reinstated = a.pending ? a.credits : 0;
    expect(out).toMatchObject({ ok: true, reversed: 0, reinstated });
    if (!a.pending) return;
    a.pending = false;
    o.reversed -= a.credits;
    o.refundedCents = Math.max(o.stripeRefundedCents, o.refundedCents - a.cents);
    m.balance += a.credits;
  }
  toString = () => `UndoAdminRefund(${this.n})`;
}

// ---- the invariants, after every step

async function checkInvariants(m: Model, r: Real) {
  const rows = await ledgerRows(r.userId);
  // Chain intact (seq 1..n, balanceAfter = previous ± amount), each key once, and below zero only by a
  // purchase_reversal (or a credit climbing back): assertChain throws otherwise.
  expect(assertChain(rows, { reversalsMayGoNegative: true })).toBe(m.balance);
  expect(await balance(r.userId)).toBe(m.balance);
  if (m.orders.length > 0) {
    const { results } = await env.DB.prepare(
      `SELECT id, totalCredits, reversedCredits, disputeReversedCredits, refundedCents, disputeStatus FROM creditPurchaseOrders WHERE id IN (${m.orders.map(() => "?").join(", ")})`,
    )
      .bind(...m.orders.map((o) => o.id))
      .all<{
        id: string;
        totalCredits: number;
        reversedCredits: number;
        disputeReversedCredits: number;
        refundedCents: number;
        disputeStatus: string | null;
      }>();
    const byId = new Map(results.map((o) => [o.id, o]));
    for (const o of m.orders) {
      const db = byId.get(o.id);
      // reversedCredits = Σ purchase_reversal − Σ purchase_reinstated of that order ≤ its credits.
      const ledgerReversed = sumFor(rows, o.id, "purchase_reversal") - sumFor(rows, o.id, "purchase_reinstated");
      expect(db?.reversedCredits, `reversedCredits of ${o.id} vs its ledger entries`).toBe(ledgerReversed);
      expect(db?.reversedCredits, `reversedCredits of ${o.id} vs the model`).toBe(o.reversed);
      expect(o.reversed).toBeLessThanOrEqual(o.credits);
      expect(db?.disputeReversedCredits, `disputeReversedCredits of ${o.id}`).toBe(o.disputeReversed);
      expect(db?.disputeStatus ?? null, `disputeStatus of ${o.id}`).toBe(o.dispute);
      expect(db?.refundedCents, `refundedCents of ${o.id}`).toBe(o.refundedCents);
    }
  }
  if (m.balance < 0) {
    // In debt: even the cheapest booking is refused (and writes nothing).
    const { out } = await book(m, r, 1);
    expect(out).toMatchObject({ ok: false, code: "insufficient_credits" });
    m.sessions.push({ id: "never-booked", cost: 1, cancelled: true });
  }
}

const sumFor = (rows: Row[], orderId: string, source: string) =>
  rows.filter((x) => x.purchaseOrderId === orderId && x.source === source).reduce((s, x) => s + x.amount, 0);

describe("CreditLedger model-based property", () => {
  it("balance, chain, debt only by reversals, one entry per key and order identities hold after every step", async () => {
    const nat = fc.nat(50);
    const status = fc.constantFrom<"open" | "won" | "lost">("open", "won", "lost");
    const before = [
      fc.integer({ min: 1, max: 20 }).map((n) => new Purchase(n)),
      nat.map((n) => new ReplayPurchase(n)),
      fc.integer({ min: 1, max: 15 }).map((n) => new Adjust("debit", n)),
      fc.integer({ min: 1, max: 10 }).map((n) => new Adjust("credit", n)),
      fc.integer({ min: 1, max: 6 }).map((n) => new Book(n)),
      nat.map((n) => new Cancel(n)),
      fc.constant(new Evict()),
      fc.integer({ min: 2, max: 12 }).map((n) => new Burst(n)),
    ];
    const afterTheFact = [
      // Partial refunds of any size, and full ones (1000 ‰) more often than chance would give.
      fc
        .tuple(nat, fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(1000)))
        .map(([n, p]) => new CardRefund(n, p)),
      fc.tuple(nat, nat).map(([n, e]) => new ReplayCardRefund(n, e)),
      fc.tuple(nat, status, fc.integer({ min: 0, max: 9 })).map(([n, s, o]) => new Dispute(n, s, o === 0)),
      fc
        .tuple(
          nat,
          fc.integer({ min: 1, max: 12 }),
          fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: nat }),
        )
        .map(([n, c, reuse]) => new AdminRefund(n, c, reuse)),
      nat.map((n) => new UndoAdminRefund(n)),
    ];
    // Listed twice: the money that comes back out is what changed, so it gets twice the weight.
    const commands = [...before, ...afterTheFact, ...afterTheFact];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: "max" }), async (cmds) => {
        const userId = newId("usr");
        const real: Real = { userId, stub: ledgerFor(env, userId) };
        const model: Model = { balance: 0, orders: [], sessions: [], adminRefunds: [] };
        for (const cmd of cmds) {
          if (!cmd.check(model)) continue;
          await cmd.run(model, real);
          await checkInvariants(model, real);
        }
      }),
      { numRuns: 40 },
    );
  });
});
