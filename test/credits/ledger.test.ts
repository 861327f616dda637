import { evictDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import { env } from "../helpers/api";
import { assertChain, balance, ledgerRows } from "./helpers";

type Stub = ReturnType<typeof ledgerFor>;

async function seed(stub: Stub, userId: string, amount: number) {
  const r = await stub.adjust({
    at: Date.now(),
    userId,
    type: "credit",
    amount,
    description: "seed",
    key: `seed:${userId}`,
  });
  expect(r.ok).toBe(true);
}

/** Calls `op` until it returns (an evicted object throws to in-flight callers, who retry with the same key). */
async function withRetry<T>(op: () => PromiseLike<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await op();
    } catch (err) {
      if (i > 20) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function createPendingOrder(userId: string, credits: number) {
  const id = newId("ord");
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO creditPurchaseOrders (id, userId, packId, totalCredits, totalCents, currency, status, createdAt, updatedAt) VALUES (?, ?, 'pack', ?, 100, 'usd', 'pending', ?, ?)",
  )
    .bind(id, userId, credits, now, now)
    .run();
  return id;
}

describe("CreditLedger under concurrency", () => {
  it("50 concurrent debits of 1 against a balance of 10: exactly 10 succeed", async () => {
    const userId = newId("usr");
    const stub = ledgerFor(env, userId);
    await seed(stub, userId, 10);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stub.adjust({ at: Date.now(), userId, type: "debit", amount: 1, description: "debit", key: `${userId}:d${i}` }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const failures = results.filter((r) => !r.ok);
    expect(failures).toHaveLength(40);
    for (const f of failures) expect(f).toMatchObject({ ok: false, code: "insufficient_credits" });
    expect(await balance(userId)).toBe(0);
    expect(assertChain(await ledgerRows(userId))).toBe(0);
  });

  it("holds when the object is evicted mid-burst and callers retry", async () => {
    const userId = newId("usr");
    const stub = ledgerFor(env, userId);
    await seed(stub, userId, 10);
    const calls = Array.from({ length: 50 }, (_, i) =>
      withRetry(async () =>
        ledgerFor(env, userId).adjust({
          at: Date.now(),
          userId,
          type: "debit",
          amount: 1,
          description: "debit",
          key: `${userId}:e${i}`,
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    await evictDurableObject(stub).catch(() => undefined);
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok)).toHaveLength(40);
    const rows = await ledgerRows(userId);
    expect(rows).toHaveLength(11);
    expect(assertChain(rows)).toBe(0);
  });

  it("a repeated call returns the first result", async () => {
    const userId = newId("usr");
    const stub = ledgerFor(env, userId);
    await seed(stub, userId, 3);
    const first = await stub.adjust({
      at: Date.now(),
      userId,
      type: "debit",
      amount: 2,
      description: "x",
      key: `${userId}:k`,
    });
    const again = await stub.adjust({
      at: Date.now(),
      userId,
      type: "debit",
      amount: 2,
      description: "x",
      key: `${userId}:k`,
    });
    expect(first).toMatchObject({ ok: true, replayed: false });
    expect(again).toMatchObject({ ok: true, replayed: true });
    if (first.ok && again.ok) expect(again.entry.id).toBe(first.entry.id);
    expect(await balance(userId)).toBe(1);
  });

  it("credits a purchase once and never a settled order", async () => {
    const userId = newId("usr");
    const stub = ledgerFor(env, userId);
    const orderId = await createPendingOrder(userId, 7);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => stub.creditPurchase(userId, orderId, Date.now())),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && !r.replayed)).toHaveLength(1);
    expect(await balance(userId)).toBe(7);
    const expired = await createPendingOrder(userId, 3);
    await env.DB.prepare("UPDATE creditPurchaseOrders SET status = 'expired' WHERE id = ?").bind(expired).run();
    expect(await stub.creditPurchase(userId, expired, Date.now())).toMatchObject({ ok: false, code: "conflict" });
    expect(await stub.creditPurchase("someone-else", orderId, Date.now())).toMatchObject({ ok: false });
    expect(await balance(userId)).toBe(7);
  });
});

interface Model {
  balance: number;
  orders: string[];
  sessions: { id: string; cost: number; cancelled: boolean }[];
}
interface Real {
  userId: string;
  stub: Stub;
}

const t0 = Date.UTC(2030, 0, 1);

class Purchase implements fc.AsyncCommand<Model, Real> {
  constructor(readonly credits: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const orderId = await createPendingOrder(r.userId, this.credits);
    const out = await r.stub.creditPurchase(r.userId, orderId, Date.now());
    expect(out).toMatchObject({ ok: true, replayed: false });
    m.balance += this.credits;
    m.orders.push(orderId);
  }
  toString = () => `Purchase(${this.credits})`;
}

class ReplayPurchase implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.orders.length > 0;
  async run(m: Model, r: Real) {
    const orderId = m.orders[this.pick % m.orders.length] as string;
    expect(await r.stub.creditPurchase(r.userId, orderId, Date.now())).toMatchObject({ ok: true, replayed: true });
  }
  toString = () => `ReplayPurchase(${this.pick})`;
}

class Debit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const out = await r.stub.adjust({
      at: Date.now(),
      userId: r.userId,
      type: "debit",
      amount: this.amount,
      description: "d",
      key: newId("k"),
    });
    if (m.balance >= this.amount) {
      expect(out.ok).toBe(true);
      m.balance -= this.amount;
    } else {
      expect(out).toMatchObject({ ok: false, code: "insufficient_credits" });
    }
  }
  toString = () => `Debit(${this.amount})`;
}

class Credit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amount: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const out = await r.stub.adjust({
      at: Date.now(),
      userId: r.userId,
      type: "credit",
      amount: this.amount,
      description: "c",
      key: newId("k"),
    });
    expect(out.ok).toBe(true);
    m.balance += this.amount;
  }
  toString = () => `Credit(${this.amount})`;
}

class Book implements fc.AsyncCommand<Model, Real> {
  constructor(readonly cost: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const id = newId("ses");
    const start = t0 + m.sessions.length * 3_600_000;
    const out = await r.stub.bookSession({
      at: Date.now(),
      userId: r.userId,
      sessionId: id,
      tutorProfileId: newId("tut"),
      tutorUserId: newId("usr"),
      studentProfileId: `stu-${r.userId}`,
      subjectId: "sub",
      startTime: start,
      endTime: start + 1_800_000,
      creditsCost: this.cost,
      description: "session",
    });
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

class Refund implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(m: Model, r: Real) {
    const s = m.sessions[this.pick % m.sessions.length];
    if (!s) return;
    const cancel = () =>
      r.stub.cancelSession({
        at: Date.now(),
        userId: r.userId,
        sessionId: s.id,
        tutorUserId: "t",
        cancelledBy: r.userId,
        reason: null,
        refund: true,
      });
    const [a, b] = await Promise.all([cancel(), cancel()]);
    const oks = [a, b].filter((x) => x.ok);
    if (s.cancelled) {
      expect(oks).toHaveLength(0);
    } else {
      expect(oks).toHaveLength(1);
      s.cancelled = true;
      m.balance += s.cost;
    }
  }
  toString = () => `Refund(${this.pick})`;
}

class Evict implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_m: Model, r: Real) {
    await evictDurableObject(r.stub).catch(() => undefined);
    r.stub = ledgerFor(env, r.userId);
  }
  toString = () => "Evict";
}

class Burst implements fc.AsyncCommand<Model, Real> {
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
    const expected = Math.min(this.n, m.balance);
    expect(results.filter((x) => x.ok)).toHaveLength(expected);
    m.balance -= expected;
  }
  toString = () => `Burst(${this.n})`;
}

describe("CreditLedger model-based property", () => {
  it("balance, chain, non-negativity and one entry per key hold after every step", async () => {
    const commands = [
      fc.integer({ min: 1, max: 20 }).map((n) => new Purchase(n)),
      fc.nat(50).map((n) => new ReplayPurchase(n)),
      fc.integer({ min: 1, max: 15 }).map((n) => new Debit(n)),
      fc.integer({ min: 1, max: 10 }).map((n) => new Credit(n)),
      fc.integer({ min: 1, max: 6 }).map((n) => new Book(n)),
      fc.nat(50).map((n) => new Refund(n)),
      fc.constant(new Evict()),
      fc.integer({ min: 2, max: 12 }).map((n) => new Burst(n)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 14 }), async (cmds) => {
        const userId = newId("usr");
        const real: Real = { userId, stub: ledgerFor(env, userId) };
        const model: Model = { balance: 0, orders: [], sessions: [] };
        for (const cmd of cmds) {
          if (!cmd.check(model)) continue;
          await cmd.run(model, real);
          const rows = await ledgerRows(userId);
          expect(assertChain(rows)).toBe(model.balance);
          expect(await balance(userId)).toBe(model.balance);
        }
      }),
      { numRuns: 12 },
    );
  });
});
