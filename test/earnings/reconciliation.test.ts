/** GET /v1/admin/reconciliation: the session split and tutor earnings identities and totals (payouts: payout-reconciliation.test.ts). */
import { describe, expect, it } from "vitest";
import { insertEarning } from "../../src/ledger/earnings-sql";
import type { ReconciliationView } from "../../src/modules/credits/schemas";
import { call, createUser, env, json } from "../helpers/api";
import { book, createSubject, createTutor, DAY, fund, HOUR, slotAt } from "../sessions/helpers";

async function world() {
  const admin = await createUser("admin");
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = await createUser("student");
  await fund(student, 6);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await book(student, tutor, subject.id, slotAt(72 + 2 * i), 60);
    expect(res.status).toBe(201);
    ids.push((await json<{ id: string }>(res)).id);
  }
  const from = Date.now() - 1000;
  const get = async () =>
    json<ReconciliationView>(
      await call(`/v1/admin/reconciliation?from=${from}&to=${Date.now() + 10 * DAY}`, { token: admin.token }),
    );
  return { admin, tutor, student, ids, get };
}

const broken = (r: ReconciliationView, prefix: string) =>
  r.identities.find((i) => i.name.startsWith(prefix))?.offendingIds ?? [];

describe("reconciliation of sessions and earnings", () => {
  it("totals held, refunded and earned credits and cents, and balances", async () => {
    const w = await world();
    const before = await w.get();
    expect(before.credits.heldInOpenSessions).toBe(6);
    // early cancel: refunded in full; late cancel: earned in full (800 cents per credit)
    expect((await call(`/v1/sessions/${w.ids[0]}/cancel`, { token: w.student.token, body: {} })).status).toBe(200);
    const late = slotAt(5);
    await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
      .bind(late, late + HOUR, w.ids[1])
      .run();
    expect((await call(`/v1/sessions/${w.ids[1]}/cancel`, { token: w.student.token, body: {} })).status).toBe(200);
    const after = await w.get();
    expect(after.balanced).toBe(true);
    expect(after.credits).toMatchObject({ heldInOpenSessions: 2, heldInDisputedSessions: 0 });
    expect(after.credits.refundedToStudents - before.credits.refundedToStudents).toBe(2);
    expect(after.credits.refundedBySettlements - before.credits.refundedBySettlements).toBe(2);
    expect(after.credits.earnedByTutors - before.credits.earnedByTutors).toBe(2);
    expect(after.cents.earnedByTutors - before.cents.earnedByTutors).toBe(1600);
    for (const i of after.identities) expect(i, i.name).toMatchObject({ holds: true, offendingIds: [] });
  });

  it("names a session with an earning it did not settle, and one with a refund it did not settle", async () => {
    const w = await world();
    expect((await w.get()).balanced).toBe(true);
    // Both inserts are allowed by the triggers (the sessions are still open): only reconciliation sees them.
    await insertEarning(env.DB, {
      id: "ern_stray",
      userId: w.tutor.id,
      type: "credit",
      amountCents: 800,
      currency: "usd",
      source: "session_earning",
      sessionId: w.ids[0] as string,
      payoutId: null,
      description: "stray",
      idempotencyKey: "stray-earning",
      createdAt: Date.now(),
    }).run();
    await env.DB.prepare(
      `INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, sessionId, description, idempotencyKey, createdAt)
SELECT 'led_stray', ?, seq + 1, 'credit', 2, balanceAfter + 2, 'session_refund', ?, 'stray', 'refund:' || ?, ?
FROM creditsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1`,
    )
      .bind(w.student.id, w.ids[1], w.ids[1], Date.now(), w.student.id)
      .run();
    const r = await w.get();
    expect(r.balanced).toBe(false);
    expect(broken(r, "session creditsCost").sort()).toEqual([w.ids[0], w.ids[1]].sort());
    expect(broken(r, "tutor earnings")).toEqual([]);
  });

  it("names a tutor whose chain does not add up (written past the chain trigger)", async () => {
    const w = await world();
    const trigger = await env.DB.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
      .bind("earningsLedger_chain")
      .first<{ sql: string }>();
    expect(trigger?.sql).toContain("earnings_chain_broken");
    await env.DB.prepare("DROP TRIGGER earningsLedger_chain").run();
    try {
      await env.DB.prepare(
        `INSERT INTO earningsLedger (id, userId, seq, type, amountCents, balanceAfterCents, currency, source, description, idempotencyKey, createdAt)
VALUES ('ern_bad', ?, 1, 'credit', 100, 900, 'usd', 'manual_adjustment', 'bad', 'bad-chain', ?)`,
      )
        .bind(w.tutor.id, Date.now())
        .run();
    } finally {
      await env.DB.prepare(trigger?.sql as string).run();
    }
    const r = await w.get();
    expect(r.balanced).toBe(false);
    expect(broken(r, "tutor earnings")).toEqual([w.tutor.id]);
  });
});
