/**
 * The weekly-series command of the two-ledger money model (money-model.test.ts): a student books
 * `count` sessions in one CreditLedger step, sent twice at once (a retry racing the first attempt).
 * All or nothing: with the balance for all of them, exactly one attempt writes every session and
 * every debit and the other replays; without it, both are 402 and nothing is written. A series whose
 * last occurrence takes the slot of an earlier one is refused by the database itself (the
 * `sessionSeries_all_booked` CHECK), whatever the balance, and writes nothing either. The model's
 * invariants (balances, chains, creditsCost = refunded + earned + held) are checked after it.
 */
import { expect } from "vitest";
import type { SessionStatus, SettlementStatus } from "../../src/db/schema";
import type { ledgerFor } from "../../src/ledger/client";
import { newId } from "../../src/lib/crypto";
import { testClaim } from "../helpers/claims";

export interface SeriesModelState {
  balances: number[];
  booked: number;
  sessions: {
    id: string;
    student: number;
    cost: number;
    status: SessionStatus;
    settlement: SettlementStatus;
    refunded: number;
    earned: number;
  }[];
}

export interface SeriesReal {
  students: { userId: string; stub: ReturnType<typeof ledgerFor> }[];
  tutorUserId: string;
  tutorProfileId: string;
}

const SLOT_MS = 3 * 3_600_000;

export class BookSeries<M extends SeriesModelState, R extends SeriesReal> {
  constructor(
    readonly t0: number,
    readonly student: number,
    readonly count: number,
    readonly cost: number,
    readonly collide: boolean,
  ) {}
  check = () => true;
  async run(m: M, r: R) {
    const st = r.students[this.student];
    if (!st) throw new Error("no such student");
    const seriesId = newId("ser");
    const starts = Array.from({ length: this.count }, () => this.t0 + m.booked++ * SLOT_MS);
    // the colliding variant books its last occurrence at the time of the one before it
    if (this.collide) starts[this.count - 1] = starts[this.count - 2] as number;
    const occurrences = starts.map((start, i) => ({
      sessionId: `ses_${seriesId.slice(4)}_${i + 1}`,
      claim: testClaim(r.tutorProfileId, `stu-${st.userId}`, start, start + 3_600_000),
      creditsCost: this.cost,
      description: `series ${i + 1}`,
    }));
    const input = {
      userId: st.userId,
      seriesId,
      tutorUserId: r.tutorUserId,
      subjectId: "sub",
      durationMinutes: 60,
      timezone: "UTC",
      occurrences,
      at: Date.now(),
    };
    const results = await Promise.all([st.stub.bookSeries(input), st.stub.bookSeries(input)]);
    const total = this.count * this.cost;
    const balance = m.balances[this.student] as number;
    if (this.collide) {
      for (const x of results) {
        expect(x.ok).toBe(false);
        expect(["slot_unavailable", "insufficient_credits"]).toContain(!x.ok && x.code);
      }
      return;
    }
    if (balance < total) {
      for (const x of results) expect(x).toMatchObject({ ok: false, code: "insufficient_credits" });
      return;
    }
    expect(results.map((x) => x.ok && x.replayed).sort()).toEqual([false, true]);
    m.balances[this.student] = balance - total;
    for (const o of occurrences) {
      m.sessions.push({
        id: o.sessionId,
        student: this.student,
        cost: this.cost,
        status: "scheduled",
        settlement: "open",
        refunded: 0,
        earned: 0,
      });
    }
  }
  toString = () => `BookSeries(${this.student}, ${this.count}×${this.cost}${this.collide ? ", colliding" : ""})`;
}
