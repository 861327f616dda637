/**
 * The database's own guarantees for tutor earnings and the settlement of sessions (migration 0006),
 * in raw SQL so that no application code stands in between: the earnings chain, its CHECKs and
 * append-only triggers, and the triggers and CHECKs that bind a session's split to its entries.
 * Every refusal is paired with the acceptance of a well-formed row, so none is a blanket refusal.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/lib/crypto";

interface Earning {
  seq: number;
  type?: string;
  amountCents: number;
  balanceAfterCents: number;
  source?: string;
  sessionId?: string | null;
  payoutId?: string | null;
  key?: string;
  id?: string;
}

const earningSql = (verb = "INSERT") =>
  `${verb} INTO earningsLedger (id, userId, seq, type, amountCents, balanceAfterCents, currency, source, sessionId, payoutId, description, idempotencyKey, createdAt)
VALUES (?, ?, ?, ?, ?, ?, 'usd', ?, ?, ?, 'raw', ?, ?)`;

const earn = (userId: string, e: Earning, verb?: string) =>
  env.DB.prepare(earningSql(verb))
    .bind(
      e.id ?? newId("ern"),
      userId,
      e.seq,
      e.type ?? "credit",
      e.amountCents,
      e.balanceAfterCents,
      e.source ?? "manual_adjustment",
      e.sessionId ?? null,
      e.payoutId ?? null,
      e.key ?? `test:${crypto.randomUUID()}`,
      Date.now(),
    )
    .run();

const chain = async (userId: string) =>
  (
    await env.DB.prepare(
      "SELECT seq, type, amountCents, balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq",
    )
      .bind(userId)
      .all<{ seq: number; type: string; amountCents: number; balanceAfterCents: number }>()
  ).results;

const tutor = () => newId("usr");

interface SessionRow {
  status?: string;
  creditsCost?: number;
  settlementStatus?: string;
  refunded?: number;
  refundedCredits?: number;
  earnedCredits?: number;
  tutorEarningsCents?: number;
  settledAt?: number | null;
}

const insertSession = (s: SessionRow = {}) => {
  const id = newId("ses");
  return env.DB.prepare(
    `INSERT INTO sessions (id, tutorProfileId, studentProfileId, startTime, endTime, status, creditsCost, settlementStatus,
  refunded, refundedCredits, earnedCredits, tutorEarningsCents, settledAt, createdAt, updatedAt)
VALUES (?, 'tp', 'sp', 0, 1, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
  )
    .bind(
      id,
      s.status ?? "scheduled",
      s.creditsCost ?? 2,
      s.settlementStatus ?? "open",
      s.refunded ?? 0,
      s.refundedCredits ?? 0,
      s.earnedCredits ?? 0,
      s.tutorEarningsCents ?? 0,
      s.settledAt ?? null,
    )
    .run()
    .then(() => id);
};

/** A first entry of a fresh student's credits ledger: the session refund of `amount`. */
const refundEntry = (sessionId: string, amount: number, key = `refund:${sessionId}`) =>
  env.DB.prepare(
    `INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, sessionId, description, idempotencyKey, createdAt)
VALUES (?, ?, 1, 'credit', ?, ?, 'session_refund', ?, 'raw', ?, ?)`,
  )
    .bind(newId("led"), newId("usr"), amount, amount, sessionId, key, Date.now())
    .run();

const sessionEarning = (sessionId: string, amountCents: number, key = `earning:${sessionId}`) =>
  earn(tutor(), { seq: 1, amountCents, balanceAfterCents: amountCents, source: "session_earning", sessionId, key });

const settle = (id: string, split: { refunded: number; earned: number; cents: number; status?: string }) =>
  env.DB.prepare(
    `UPDATE sessions SET settlementStatus = ?, refunded = ?, refundedCredits = ?, earnedCredits = ?, tutorEarningsCents = ?, settledAt = 1
WHERE id = ?`,
  )
    .bind(
      split.status ?? (split.earned > 0 ? "settled" : "refunded"),
      split.refunded > 0 ? 1 : 0,
      split.refunded,
      split.earned,
      split.cents,
      id,
    )
    .run();

const sessionOf = (id: string) =>
  env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(id).first<Record<string, unknown>>();

describe("earnings ledger chain (raw SQL)", () => {
  it("accepts a consistent chain per tutor: credit, debit, debit to exactly zero", async () => {
    const a = tutor();
    const b = tutor();
    await earn(a, { seq: 1, amountCents: 800, balanceAfterCents: 800 });
    await earn(b, { seq: 1, amountCents: 100, balanceAfterCents: 100 });
    await earn(a, { seq: 2, type: "debit", amountCents: 300, balanceAfterCents: 500 });
    await earn(a, { seq: 3, type: "debit", amountCents: 500, balanceAfterCents: 0 });
    expect(await chain(a)).toEqual([
      { seq: 1, type: "credit", amountCents: 800, balanceAfterCents: 800 },
      { seq: 2, type: "debit", amountCents: 300, balanceAfterCents: 500 },
      { seq: 3, type: "debit", amountCents: 500, balanceAfterCents: 0 },
    ]);
    expect((await chain(b)).map((e) => e.balanceAfterCents)).toEqual([100]);
  });

  it("refuses a wrong seq (gap, repeat, 0, not 1 first) and then accepts the right one", async () => {
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 500, balanceAfterCents: 500 });
    await expect(earn(a, { seq: 3, amountCents: 1, balanceAfterCents: 501 })).rejects.toThrow(/earnings_chain_broken/);
    await expect(earn(a, { seq: 1, amountCents: 1, balanceAfterCents: 501 })).rejects.toThrow(
      /earnings_chain_broken|earnings_append_only|UNIQUE/,
    );
    await expect(earn(tutor(), { seq: 2, amountCents: 1, balanceAfterCents: 1 })).rejects.toThrow(
      /earnings_chain_broken/,
    );
    await expect(earn(tutor(), { seq: 0, amountCents: 1, balanceAfterCents: 1 })).rejects.toThrow(
      /earnings_chain_broken|earningsLedger_seq_positive/,
    );
    await earn(a, { seq: 2, amountCents: 1, balanceAfterCents: 501 });
    expect((await chain(a)).map((e) => e.seq)).toEqual([1, 2]);
  });

  it("refuses a balanceAfterCents that is not previous ± amount, then accepts the right one", async () => {
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 500, balanceAfterCents: 500 });
    await expect(earn(a, { seq: 2, amountCents: 100, balanceAfterCents: 700 })).rejects.toThrow(
      /earnings_chain_broken/,
    );
    await expect(earn(a, { seq: 2, type: "debit", amountCents: 100, balanceAfterCents: 600 })).rejects.toThrow(
      /earnings_chain_broken/,
    );
    await expect(earn(tutor(), { seq: 1, amountCents: 5, balanceAfterCents: 6 })).rejects.toThrow(
      /earnings_chain_broken/,
    );
    await earn(a, { seq: 2, type: "debit", amountCents: 100, balanceAfterCents: 400 });
    expect((await chain(a)).at(-1)?.balanceAfterCents).toBe(400);
  });

  it("is append-only: every UPDATE, DELETE and INSERT OR REPLACE is refused, the row is unchanged", async () => {
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 500, balanceAfterCents: 500, id: `ern_${a}`, key: `k:${a}` });
    for (const sql of [
      "UPDATE earningsLedger SET amountCents = 600, balanceAfterCents = 600 WHERE userId = ?",
      "UPDATE earningsLedger SET description = 'edited' WHERE userId = ?",
      "DELETE FROM earningsLedger WHERE userId = ?",
    ]) {
      await expect(env.DB.prepare(sql).bind(a).run(), sql).rejects.toThrow(/earnings_append_only/);
    }
    await expect(
      earn(a, { seq: 1, amountCents: 900, balanceAfterCents: 900, id: `ern_${a}`, key: `k:${a}` }, "INSERT OR REPLACE"),
    ).rejects.toThrow(/earnings_append_only|earnings_chain_broken|UNIQUE/);
    expect(await chain(a)).toEqual([{ seq: 1, type: "credit", amountCents: 500, balanceAfterCents: 500 }]);
  });

  it("never goes below zero, even with a consistent chain; a debit of exactly the balance is accepted", async () => {
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 500, balanceAfterCents: 500 });
    await expect(earn(a, { seq: 2, type: "debit", amountCents: 501, balanceAfterCents: -1 })).rejects.toThrow(
      /earningsLedger_balance_non_negative/,
    );
    await expect(earn(tutor(), { seq: 1, type: "debit", amountCents: 1, balanceAfterCents: -1 })).rejects.toThrow(
      /earningsLedger_balance_non_negative/,
    );
    await earn(a, { seq: 2, type: "debit", amountCents: 500, balanceAfterCents: 0 });
  });

  it("refuses an amount of 0 or below; accepts 1 cent", async () => {
    await expect(earn(tutor(), { seq: 1, amountCents: 0, balanceAfterCents: 0 })).rejects.toThrow(
      /earningsLedger_amount_positive/,
    );
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 10, balanceAfterCents: 10 });
    await expect(earn(a, { seq: 2, type: "debit", amountCents: -5, balanceAfterCents: 15 })).rejects.toThrow(
      /earningsLedger_amount_positive/,
    );
    await earn(a, { seq: 2, amountCents: 1, balanceAfterCents: 11 });
  });

  it("refuses amounts, balances and seqs that are not whole numbers; accepts whole ones", async () => {
    const a = tutor();
    await expect(earn(a, { seq: 1, amountCents: 1.5, balanceAfterCents: 1.5 })).rejects.toThrow(/earnings_not_integer/);
    await earn(a, { seq: 1, amountCents: 2, balanceAfterCents: 2 });
    await expect(earn(a, { seq: 2, type: "debit", amountCents: 0.5, balanceAfterCents: 1.5 })).rejects.toThrow(
      /earnings_not_integer/,
    );
    await earn(a, { seq: 2, type: "debit", amountCents: 1, balanceAfterCents: 1 });
  });

  it("keeps one entry per idempotency key, also across tutors", async () => {
    const key = `k:${crypto.randomUUID()}`;
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 5, balanceAfterCents: 5, key });
    await expect(earn(a, { seq: 2, amountCents: 5, balanceAfterCents: 10, key })).rejects.toThrow(
      /earnings_append_only|UNIQUE constraint failed: earningsLedger\.idempotencyKey/,
    );
    await expect(earn(tutor(), { seq: 1, amountCents: 5, balanceAfterCents: 5, key })).rejects.toThrow(
      /earnings_append_only|UNIQUE constraint failed: earningsLedger\.idempotencyKey/,
    );
    await earn(a, { seq: 2, amountCents: 5, balanceAfterCents: 10, key: `${key}:2` });
  });

  it("holds at most one session_earning per session; another source may name the session", async () => {
    const s = await insertSession();
    await sessionEarning(s, 800, `earning:${s}`);
    await expect(sessionEarning(s, 800, `earning:${s}:again`)).rejects.toThrow(
      /UNIQUE constraint failed: earningsLedger\.sessionId/,
    );
    await earn(tutor(), { seq: 1, amountCents: 100, balanceAfterCents: 100, sessionId: s });
    await sessionEarning(await insertSession(), 800);
  });

  it("checks the shape of each source and the type and source names", async () => {
    const shape = /earningsLedger_source_shape/;
    const s = await insertSession();
    const one = (e: Partial<Earning>) => earn(tutor(), { seq: 1, amountCents: 5, balanceAfterCents: 5, ...e });
    // a session_earning names its session (without one, the open-session trigger refuses it first)
    await expect(one({ source: "session_earning", sessionId: null })).rejects.toThrow(
      /earningsLedger_source_shape|earning_without_open_session/,
    );
    // a payout is a debit (the payout triggers of migration 0007 may refuse it first: no such payout)
    await expect(one({ source: "payout", payoutId: "po_1" })).rejects.toThrow(
      /earningsLedger_source_shape|payout_debit_mismatch/,
    );
    await expect(one({ source: "payout_reversal", payoutId: null })).rejects.toThrow(
      /earningsLedger_source_shape|payout_reversal_mismatch/,
    );
    await expect(one({ source: "lottery" })).rejects.toThrow(/earningsLedger_source/);
    // on a chain with money in it, so that only the shape is wrong
    const a = tutor();
    await earn(a, { seq: 1, amountCents: 800, balanceAfterCents: 800, source: "session_earning", sessionId: s });
    const debit = { seq: 2, type: "debit", amountCents: 100, balanceAfterCents: 700 };
    await expect(earn(a, { ...debit, source: "payout", payoutId: null })).rejects.toThrow(
      /earningsLedger_source_shape|payout_debit_mismatch/,
    );
    await expect(earn(a, { ...debit, source: "payout_reversal", payoutId: "po_1" })).rejects.toThrow(
      /earningsLedger_source_shape|payout_reversal_mismatch/,
    );
    await expect(earn(a, { ...debit, source: "session_earning", sessionId: await insertSession() })).rejects.toThrow(
      shape,
    );
    // (the chain trigger reads any type but 'credit' as a debit: 800 − 100 keeps the chain, so only the CHECK refuses)
    await expect(earn(a, { ...debit, type: "gift" })).rejects.toThrow(/earningsLedger_type/);
    // the well-formed shapes of every source (a payout's entries also need their payout: migration 0007)
    const po = newId("pay");
    await env.DB.prepare(
      "INSERT INTO payouts (id, userId, runId, amountCents, currency, stripeAccountId, status, createdAt, updatedAt) VALUES (?, ?, 'run_raw', 100, 'usd', 'acct_raw', 'pending', 0, 0)",
    )
      .bind(po, a)
      .run();
    await earn(a, { ...debit, source: "payout", payoutId: po });
    await earn(a, { seq: 3, amountCents: 100, balanceAfterCents: 800, source: "payout_reversal", payoutId: po });
    await earn(a, { seq: 4, type: "debit", amountCents: 300, balanceAfterCents: 500, source: "manual_adjustment" });
    await earn(a, { seq: 5, amountCents: 300, balanceAfterCents: 800, source: "manual_adjustment" });
    expect((await chain(a)).map((e) => e.balanceAfterCents)).toEqual([800, 700, 800, 500, 800]);
  });
});

describe("session settlement triggers (raw SQL)", () => {
  it("a session_earning needs an open or disputed session", async () => {
    const settled = await insertSession();
    await sessionEarning(settled, 1600);
    await settle(settled, { refunded: 0, earned: 2, cents: 1600 });
    const refunded = await insertSession({
      status: "cancelled",
      settlementStatus: "refunded",
      refunded: 1,
      refundedCredits: 2,
      settledAt: 1,
    });
    for (const s of [settled, refunded, "ses_unknown"]) {
      await expect(sessionEarning(s, 800, `earning:${s}:late`)).rejects.toThrow(/earning_without_open_session/);
    }
    await sessionEarning(await insertSession(), 800);
    await sessionEarning(await insertSession({ status: "completed", settlementStatus: "disputed" }), 800);
  });

  it("a session_refund needs an open or disputed session", async () => {
    const settled = await insertSession();
    await sessionEarning(settled, 1600);
    await settle(settled, { refunded: 0, earned: 2, cents: 1600 });
    await expect(refundEntry(settled, 1, `refund:${settled}:late`)).rejects.toThrow(/refund_without_open_session/);
    await expect(refundEntry("ses_unknown", 1)).rejects.toThrow(/refund_without_open_session/);
    await refundEntry(await insertSession(), 2);
    await refundEntry(await insertSession({ status: "completed", settlementStatus: "disputed" }), 1);
  });

  it("a session cannot be settled or refunded without its entries (sessions_settled_with_entries)", async () => {
    const s = await insertSession();
    await expect(settle(s, { refunded: 0, earned: 2, cents: 1600 })).rejects.toThrow(/settlement_without_entries/);
    await expect(settle(s, { refunded: 2, earned: 0, cents: 0 })).rejects.toThrow(/settlement_without_entries/);
    // the earning is there but its amount is not the split's
    await sessionEarning(s, 800);
    await expect(settle(s, { refunded: 0, earned: 2, cents: 1600 })).rejects.toThrow(/settlement_without_entries/);
    // a split of 1 + 1 needs the refund entry too
    await expect(settle(s, { refunded: 1, earned: 1, cents: 800 })).rejects.toThrow(/settlement_without_entries/);
    expect(await sessionOf(s)).toMatchObject({ settlementStatus: "open", earnedCredits: 0, refundedCredits: 0 });
    await refundEntry(s, 1);
    await settle(s, { refunded: 1, earned: 1, cents: 800 });
    expect(await sessionOf(s)).toMatchObject({ settlementStatus: "settled", refundedCredits: 1, earnedCredits: 1 });

    const r = await insertSession({ status: "cancelled" });
    await refundEntry(r, 2);
    await settle(r, { refunded: 2, earned: 0, cents: 0 });
    expect(await sessionOf(r)).toMatchObject({ settlementStatus: "refunded", refunded: 1 });
  });

  it("a settled split is final (sessions_settlement_final); other columns may still change", async () => {
    const s = await insertSession({ status: "completed" });
    await sessionEarning(s, 1600);
    await settle(s, { refunded: 0, earned: 2, cents: 1600 });
    for (const sql of [
      "UPDATE sessions SET settlementStatus = 'open', earnedCredits = 0, tutorEarningsCents = 0, settledAt = NULL WHERE id = ?",
      "UPDATE sessions SET earnedCredits = 1, tutorEarningsCents = 800, refundedCredits = 1, refunded = 1 WHERE id = ?",
      "UPDATE sessions SET tutorEarningsCents = 1700 WHERE id = ?",
      "UPDATE sessions SET settledAt = 2 WHERE id = ?",
      "UPDATE sessions SET settlementStatus = 'disputed' WHERE id = ?",
    ]) {
      await expect(env.DB.prepare(sql).bind(s).run(), sql).rejects.toThrow(/session_settlement_final/);
    }
    await env.DB.prepare("UPDATE sessions SET updatedAt = 5, disputeReason = NULL WHERE id = ?").bind(s).run();
    expect(await sessionOf(s)).toMatchObject({ settlementStatus: "settled", earnedCredits: 2, updatedAt: 5 });
  });

  it("creditsCost is fixed (sessions_cost_fixed); writing the same cost is accepted", async () => {
    const s = await insertSession({ creditsCost: 2 });
    await expect(env.DB.prepare("UPDATE sessions SET creditsCost = 3 WHERE id = ?").bind(s).run()).rejects.toThrow(
      /session_cost_fixed/,
    );
    await env.DB.prepare("UPDATE sessions SET creditsCost = 2, updatedAt = 9 WHERE id = ?").bind(s).run();
    expect(await sessionOf(s)).toMatchObject({ creditsCost: 2, updatedAt: 9 });
  });

  it("CHECK sessions_settlement_split: non-negative parts within the cost, cents iff earned, refunded iff refundedCredits", async () => {
    const split = /sessions_settlement_split/;
    const settledAt = 1;
    await expect(
      insertSession({ settlementStatus: "refunded", refunded: 1, refundedCredits: 3, settledAt, creditsCost: 2 }),
    ).rejects.toThrow(split);
    await expect(
      insertSession({ settlementStatus: "settled", earnedCredits: 2, tutorEarningsCents: 0, settledAt }),
    ).rejects.toThrow(split);
    await expect(
      insertSession({ settlementStatus: "settled", earnedCredits: 2, tutorEarningsCents: -1, settledAt }),
    ).rejects.toThrow(split);
    await expect(
      insertSession({
        settlementStatus: "settled",
        refundedCredits: 1,
        refunded: 0,
        earnedCredits: 1,
        tutorEarningsCents: 800,
        settledAt,
      }),
    ).rejects.toThrow(split);
    await expect(insertSession({ refundedCredits: -1, earnedCredits: 0 })).rejects.toThrow(
      /sessions_settlement_split|sessions_settlement_state/,
    );
    await insertSession({
      settlementStatus: "settled",
      refundedCredits: 1,
      refunded: 1,
      earnedCredits: 1,
      tutorEarningsCents: 800,
      settledAt,
    });
  });

  it("CHECK sessions_settlement_state: open/disputed hold everything, settled earns, refunded refunds all", async () => {
    const state = /sessions_settlement_state/;
    await expect(insertSession({ earnedCredits: 1, tutorEarningsCents: 800 })).rejects.toThrow(state);
    await expect(insertSession({ settledAt: 1 })).rejects.toThrow(state);
    await expect(
      insertSession({ settlementStatus: "settled", earnedCredits: 1, tutorEarningsCents: 800, settledAt: 1 }),
    ).rejects.toThrow(state); // 1 of 2 credits: the split must add up to the cost
    await expect(
      insertSession({ settlementStatus: "settled", earnedCredits: 2, tutorEarningsCents: 1600, settledAt: null }),
    ).rejects.toThrow(state);
    await expect(
      insertSession({ settlementStatus: "settled", refundedCredits: 2, refunded: 1, settledAt: 1 }),
    ).rejects.toThrow(state); // settled must earn something: all refunded is 'refunded'
    await expect(
      insertSession({
        settlementStatus: "refunded",
        refundedCredits: 1,
        refunded: 1,
        earnedCredits: 1,
        tutorEarningsCents: 800,
        settledAt: 1,
      }),
    ).rejects.toThrow(state);
    await expect(insertSession({ settlementStatus: "pending" })).rejects.toThrow(/CHECK constraint failed/);
    await insertSession({ settlementStatus: "settled", earnedCredits: 2, tutorEarningsCents: 1600, settledAt: 1 });
    await insertSession({ settlementStatus: "refunded", refundedCredits: 2, refunded: 1, settledAt: 1 });
    await insertSession({ settlementStatus: "open" });
  });

  it("CHECK sessions_disputed_completed: only a completed session can be disputed", async () => {
    for (const status of ["scheduled", "in_progress", "cancelled"]) {
      await expect(insertSession({ status, settlementStatus: "disputed" }), status).rejects.toThrow(
        /sessions_disputed_completed/,
      );
    }
    const s = await insertSession({ status: "in_progress" });
    await expect(
      env.DB.prepare("UPDATE sessions SET settlementStatus = 'disputed' WHERE id = ?").bind(s).run(),
    ).rejects.toThrow(/sessions_disputed_completed/);
    await env.DB.prepare("UPDATE sessions SET status = 'completed', settlementStatus = 'disputed' WHERE id = ?")
      .bind(s)
      .run();
    expect(await sessionOf(s)).toMatchObject({ status: "completed", settlementStatus: "disputed" });
  });
});
