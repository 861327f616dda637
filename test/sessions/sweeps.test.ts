/**
 * The lifecycle sweeps (src/modules/sessions/sweeps.ts) by the ServiceContext clock: auto-complete,
 * not held → refunded by the system, settlement after the hold (held lesson, student no-show, legacy
 * late cancellation), a dispute that the sweep never touches, each replayed and raced, a dispute racing
 * the settlement, and bounded batches drained by the continuation job.
 */
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ServiceContext } from "../../src/context";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { setClock } from "../../src/lib/clock";
import {
  dueKeysSql,
  dueRowsSql,
  FANOUT,
  fanOut,
  runSweepBatch,
  type SweepName,
  sweepAndContinue,
  sweepJob,
} from "../../src/modules/sessions/sweeps";
import type { QueueMessage } from "../../src/queues/messages";
import { runScheduled } from "../../src/scheduled";
import { queueBarrier } from "../credits/helpers";
import { call, createUser, env, json, type TestUser } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { balanceOf, book, createSubject, createTutor, fund, HOUR, slotAt, type Tutor } from "./helpers";

const CENTS = 800; // TUTOR_PAYOUT_CENTS_PER_CREDIT's default
const COST = 2; // 60 minutes at 2 credits an hour

interface World {
  tutor: Tutor;
  student: TestUser;
  subjectId: string;
  ids: string[];
}

/** A tutor, a student with 10 credits per session, and `n` booked sessions three days ahead. */
async function world(n = 1): Promise<World> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = await createUser("student");
  await fund(student, 10 * n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await book(student, tutor, subject.id, slotAt(72 + 2 * i), 60);
    if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
    ids.push((await json<{ id: string }>(res)).id);
  }
  return { tutor, student, subjectId: subject.id, ids };
}

const row = (id: string) =>
  env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(id).first<{
    status: string;
    settlementStatus: string;
    endTime: number;
    cancelledBy: string | null;
    cancellationReason: string | null;
    refundedCredits: number;
    earnedCredits: number;
    tutorEarningsCents: number;
    noShow: string | null;
  }>();

/** Moves a booked session to start at the next quarter hour, so its tutor can start it now. */
async function startNow(w: World, id: string) {
  const start = slotAt(0);
  await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(start, start + HOUR, id)
    .run();
  expect((await call(`/v1/sessions/${id}/start`, { token: w.tutor.token, body: {} })).status).toBe(200);
  return start + HOUR;
}

async function complete(w: World, id: string) {
  const end = await startNow(w, id);
  expect((await call(`/v1/sessions/${id}/complete`, { token: w.tutor.token, body: {} })).status).toBe(200);
  return end;
}

/** A job context whose clock reads `at`, and whose jobs queue records instead of delivering. */
async function svcAt(at: number) {
  const sent: QueueMessage[] = [];
  const jobs = {
    send: async (body: QueueMessage) => void sent.push(body),
    sendBatch: async (batch: { body: QueueMessage }[]) => void sent.push(...batch.map((b) => b.body)),
  } as unknown as Queue<QueueMessage>;
  const base = await jobContext(env, `test:${at}`);
  const svc: ServiceContext = { ...base, env: { ...env, JOBS: jobs } as Env, clock: { now: () => at, offsetMs: 0 } };
  return { svc, sent };
}

type SweepMessage = Extract<QueueMessage, { type: "sessions.sweep" }>;
const isSweep = (m: QueueMessage): m is SweepMessage => m.type === "sessions.sweep";

const count = async (sql: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...binds)
      .first<{ n: number }>()
  )?.n ?? 0;

const earnings = (id: string) =>
  env.DB.prepare("SELECT userId, amountCents, source FROM earningsLedger WHERE sessionId = ?")
    .bind(id)
    .all<{ userId: string; amountCents: number; source: string }>()
    .then((r) => r.results);
const refunds = (id: string) =>
  count("SELECT COUNT(*) AS n FROM creditsLedger WHERE sessionId = ? AND source = 'session_refund'", id);
const notes = (id: string, type: string) =>
  count("SELECT COUNT(*) AS n FROM notifications WHERE type = ? AND json_extract(data, '$.sessionId') = ?", type, id);

/** Runs a sweep until a batch is not full (the chain a cron run starts), returning the batches run. */
async function drain(svc: ServiceContext, sweep: SweepName, limit?: number) {
  const runs = [await runSweepBatch(svc, sweep, { limit })];
  for (let next = runs[0]?.next; next; next = runs[runs.length - 1]?.next) {
    runs.push(await runSweepBatch(svc, sweep, { after: next, limit }));
  }
  return runs;
}

async function expectSettledToTutor(w: World, id: string) {
  expect(await row(id)).toMatchObject({
    settlementStatus: "settled",
    refundedCredits: 0,
    earnedCredits: COST,
    tutorEarningsCents: COST * CENTS,
  });
  expect(await earnings(id)).toEqual([{ userId: w.tutor.id, amountCents: COST * CENTS, source: "session_earning" }]);
  expect(await refunds(id)).toBe(0);
  expect(await notes(id, "session_settled")).toBe(2);
}

describe("auto-complete", () => {
  it("in_progress at endTime + AUTO_COMPLETE_HOURS → completed, still open (not before); replayed once", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const end = await startNow(w, id);
    const early = await svcAt(end + 2 * HOUR - 1);
    await drain(early.svc, "auto_complete");
    expect((await row(id))?.status).toBe("in_progress");
    const due = await svcAt(end + 2 * HOUR);
    await drain(due.svc, "auto_complete");
    expect(await row(id)).toMatchObject({ status: "completed", settlementStatus: "open", earnedCredits: 0 });
    expect(await notes(id, "session_auto_completed")).toBe(2);
    const mails = due.sent.filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id));
    expect(mails.map((m) => m.type === "email.send" && m.to).sort()).toEqual([w.student.email, w.tutor.email].sort());
    // Replay: nothing more.
    const again = await svcAt(end + 3 * HOUR);
    await drain(again.svc, "auto_complete");
    expect(again.sent.filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id))).toHaveLength(0);
    expect(await notes(id, "session_auto_completed")).toBe(2);
    expect(await earnings(id)).toEqual([]);
    expect((await eventTypesOf(id)).filter((t) => t === "session.completed")).toHaveLength(1);
  });

  it("raced: two sweeps at once complete it once", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const end = await startNow(w, id);
    const a = await svcAt(end + 2 * HOUR);
    const b = await svcAt(end + 2 * HOUR);
    const runs = await Promise.all([drain(a.svc, "auto_complete"), drain(b.svc, "auto_complete")]);
    expect((await row(id))?.status).toBe("completed");
    expect(await notes(id, "session_auto_completed")).toBe(2);
    const mails = [...a.sent, ...b.sent].filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id));
    expect(mails).toHaveLength(2);
    expect(runs.flat().length).toBeGreaterThan(0);
    expect((await eventTypesOf(id)).filter((t) => t === "session.completed")).toHaveLength(1);
  });
});

describe("never started, nobody reports", () => {
  it("→ cancelled by system, not_held, all back (not before endTime + REPORT_WINDOW_HOURS); replayed and raced", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const end = (await row(id))?.endTime as number;
    expect(await balanceOf(w.student.token)).toBe(10 - COST);
    await drain((await svcAt(end + 48 * HOUR - 1)).svc, "not_held");
    expect((await row(id))?.status).toBe("scheduled");
    const a = await svcAt(end + 48 * HOUR);
    const b = await svcAt(end + 48 * HOUR);
    await Promise.all([drain(a.svc, "not_held"), drain(b.svc, "not_held")]);
    expect(await row(id)).toMatchObject({
      status: "cancelled",
      cancelledBy: "system",
      cancellationReason: "not_held",
      settlementStatus: "refunded",
      refundedCredits: COST,
      earnedCredits: 0,
    });
    expect(await balanceOf(w.student.token)).toBe(10);
    expect(await refunds(id)).toBe(1);
    expect(await earnings(id)).toEqual([]);
    expect(await notes(id, "session_not_held")).toBe(2);
    expect([...a.sent, ...b.sent].filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id))).toHaveLength(
      2,
    );
    // Replay, and the settlement sweeps leave a refunded session alone.
    const later = await svcAt(end + 100 * HOUR);
    for (const s of ["not_held", "settle_held", "settle_cancelled"] as const) await drain(later.svc, s);
    expect(await refunds(id)).toBe(1);
    expect(await balanceOf(w.student.token)).toBe(10);
    expect(later.sent.filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id))).toHaveLength(0);
  });
});

describe("settlement after the hold", () => {
  it("held lesson, no dispute → the tutor earns all after SETTLEMENT_HOLD_HOURS (not before); replayed and raced", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const end = await complete(w, id);
    await drain((await svcAt(end + 48 * HOUR - 1)).svc, "settle_held");
    expect(await row(id)).toMatchObject({ status: "completed", settlementStatus: "open" });
    expect(await earnings(id)).toEqual([]);
    const a = await svcAt(end + 48 * HOUR);
    const b = await svcAt(end + 48 * HOUR);
    await Promise.all([drain(a.svc, "settle_held"), drain(b.svc, "settle_held")]);
    await expectSettledToTutor(w, id);
    expect(await balanceOf(w.student.token)).toBe(10 - COST);
    const mails = [...a.sent, ...b.sent].filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id));
    expect(mails).toHaveLength(2);
    const tutorMail = mails.find((m) => m.type === "email.send" && m.to === w.tutor.email);
    expect(tutorMail?.type === "email.send" && tutorMail.text).toContain("you earned 16.00 USD");
    const replay = await svcAt(end + 60 * HOUR);
    await drain(replay.svc, "settle_held");
    await expectSettledToTutor(w, id);
    expect(replay.sent.filter((m) => m.type === "email.send" && m.idempotencyKey.includes(id))).toHaveLength(0);
    // raced and replayed, the settlement is announced once
    expect((await eventTypesOf(id)).filter((t) => t === "session.settled")).toHaveLength(1);
  });

  it("student no-show reported, no dispute → the tutor earns all after the hold", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    // The no-show route is built elsewhere: its effect, as one conditional write.
    const marked = await env.DB.prepare(
      "UPDATE sessions SET noShow = 'student', status = 'completed' WHERE id = ? AND status = 'scheduled'",
    )
      .bind(id)
      .run();
    expect(marked.meta.changes).toBe(1);
    const end = (await row(id))?.endTime as number;
    // The not-held sweep does not touch it (it is no longer scheduled).
    await drain((await svcAt(end + 48 * HOUR)).svc, "not_held");
    expect(await refunds(id)).toBe(0);
    await drain((await svcAt(end + 48 * HOUR - 1)).svc, "settle_held");
    expect((await row(id))?.settlementStatus).toBe("open");
    await drain((await svcAt(end + 48 * HOUR)).svc, "settle_held");
    await expectSettledToTutor(w, id);
    expect((await row(id))?.noShow).toBe("student");
  });

  it("a disputed session is never settled by the sweep", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const end = await complete(w, id);
    await env.DB.prepare(
      "UPDATE sessions SET settlementStatus = 'disputed', disputedAt = ?, disputeReason = 'no' WHERE id = ? AND settlementStatus = 'open'",
    )
      .bind(end, id)
      .run();
    const later = await svcAt(end + 1000 * HOUR);
    for (const s of ["auto_complete", "not_held", "settle_held", "settle_cancelled"] as const)
      await drain(later.svc, s);
    expect(await row(id)).toMatchObject({ status: "completed", settlementStatus: "disputed", earnedCredits: 0 });
    expect(await earnings(id)).toEqual([]);
    expect(await refunds(id)).toBe(0);
  });

  it("a dispute racing the settlement sweep: exactly one wins and the money matches", async () => {
    const w = await world(4);
    const ends = [];
    for (const id of w.ids) ends.push(await complete(w, id));
    const due = await svcAt(Math.max(...ends) + 48 * HOUR);
    const [disputes] = await Promise.all([
      Promise.all(
        w.ids.map((id) =>
          env.DB.prepare(
            "UPDATE sessions SET settlementStatus = 'disputed', disputedAt = ?, disputeReason = 'no' WHERE id = ? AND settlementStatus = 'open'",
          )
            .bind(Date.now(), id)
            .run(),
        ),
      ),
      drain(due.svc, "settle_held"),
    ]);
    for (const [i, id] of w.ids.entries()) {
      const r = await row(id);
      const disputed = (disputes[i]?.meta.changes ?? 0) === 1;
      expect(r?.settlementStatus).toBe(disputed ? "disputed" : "settled");
      expect(await earnings(id)).toHaveLength(disputed ? 0 : 1);
      expect(r?.earnedCredits).toBe(disputed ? 0 : COST);
      expect(await notes(id, "session_settled")).toBe(disputed ? 0 : 2);
    }
    const earned = await count(
      "SELECT COALESCE(SUM(amountCents), 0) AS n FROM earningsLedger WHERE userId = ?",
      w.tutor.id,
    );
    const settled = w.ids.length - disputes.filter((d) => d.meta.changes === 1).length;
    expect(earned).toBe(settled * COST * CENTS);
  });

  it("legacy cancelled + open sessions (late cancels before migration 0006) are settled at once with no refund", async () => {
    const w = await world();
    const id = w.ids[0] as string;
    const legacy = await env.DB.prepare(
      "UPDATE sessions SET status = 'cancelled', cancelledBy = 'student', cancelledAt = ?, refunded = 0 WHERE id = ? AND status = 'scheduled'",
    )
      .bind(Date.now(), id)
      .run();
    expect(legacy.meta.changes).toBe(1);
    const now = await svcAt(Date.now());
    await Promise.all([drain(now.svc, "settle_cancelled"), drain(now.svc, "settle_cancelled")]);
    await expectSettledToTutor(w, id);
    expect((await row(id))?.status).toBe("cancelled");
    expect(await balanceOf(w.student.token)).toBe(10 - COST);
  });
});

describe("bounded batches", () => {
  it.each([
    ["auto_complete", "sessions_in_progress_by_end"],
    ["not_held", "sessions_scheduled_by_end"],
    ["settle_held", "sessions_unsettled_by_end"],
    ["settle_cancelled", "sessions_unsettled_by_end"],
  ] as const)("the %s sweep reads its partial index %s (no scan, no sort)", async (sweep, index) => {
    for (const sql of [dueRowsSql(sweep), dueRowsSql(sweep, true), dueKeysSql(sweep)]) {
      const binds = (sql.match(/\?/g) ?? []).map(() => 0);
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...binds)
        .all<{ detail: string }>();
      const plan = results.map((r) => r.detail);
      expect(plan.find((d) => /\bs\b/.test(d) && d.includes("sessions"))).toMatch(
        new RegExp(`USING (COVERING )?INDEX ${index}\\b`),
      );
      expect(plan.join("\n")).not.toContain("TEMP B-TREE");
    }
  });

  it("one run reads at most the batch; the continuation jobs drain the rest, once each", async () => {
    const w = await world(7);
    const ends = [];
    for (const id of w.ids) ends.push(await complete(w, id));
    const at = Math.max(...ends) + 48 * HOUR;
    // Everything due in this file's database is in the chain; only ours are checked.
    const first = await svcAt(at);
    const run = await sweepAndContinue(first.svc, "settle_held", 2);
    expect(run.read).toBe(2);
    const started = first.sent.filter(isSweep);
    expect(started).toEqual([{ type: "sessions.sweep", sweep: "settle_held", after: run.next, limit: 2 }]);
    // The queue, by hand: every sweep job the handlers enqueue runs, until none is left.
    const pending = [...started];
    const leaves: number[] = [];
    let chains = 0;
    for (let job = pending.shift(); job; job = pending.shift()) {
      const step = await svcAt(at);
      if (job.until) {
        // What the leaf job does (sweepJob), with its numbers.
        const leaf = await runSweepBatch(step.svc, job.sweep, job);
        expect(leaf.read).toBeLessThanOrEqual(2);
        leaves.push(leaf.acted);
        expect(step.sent.filter((m) => m.type === "sessions.sweep")).toEqual([]);
      } else {
        chains++;
        await sweepJob(step.svc, job);
        // A chain message only fans out: at most FANOUT leaves and the next chain message.
        expect(step.sent.length).toBeLessThanOrEqual(FANOUT + 1);
        expect(step.sent.every((m) => m.type === "sessions.sweep")).toBe(true);
      }
      pending.push(...step.sent.filter(isSweep));
      expect(leaves.length + chains).toBeLessThan(50);
    }
    expect(chains).toBeGreaterThanOrEqual(1);
    expect(leaves.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    for (const id of w.ids) await expectSettledToTutor(w, id);
    const earned = await count(
      "SELECT COALESCE(SUM(amountCents), 0) AS n FROM earningsLedger WHERE userId = ?",
      w.tutor.id,
    );
    expect(earned).toBe(7 * COST * CENTS);
  });

  it("a chain fans a full window out into FANOUT leaves and passes itself on", async () => {
    const w = await world(1);
    const end = await complete(w, w.ids[0] as string);
    const { svc } = await svcAt(end + 48 * HOUR);
    // limit 1: every due row of the file is a leaf; the window is FANOUT rows.
    const sent = await fanOut(svc, "settle_held", { endTime: -1, id: "" }, 1);
    const leaves = sent.filter((m) => m.type === "sessions.sweep" && m.until);
    expect(leaves.length).toBeGreaterThanOrEqual(1);
    expect(leaves.length).toBeLessThanOrEqual(FANOUT);
    const chained = sent.filter((m) => m.type === "sessions.sweep" && !m.until);
    expect(chained).toHaveLength(leaves.length === FANOUT ? 1 : 0);
    // Leaves tile the window: each starts where the previous ended.
    for (let i = 1; i < leaves.length; i++) {
      const [prev, cur] = [leaves[i - 1], leaves[i]];
      if (prev?.type === "sessions.sweep" && cur?.type === "sessions.sweep") expect(cur.after).toEqual(prev.until);
    }
  });

  it("the cron runs every sweep whose time has come by the test clock", async () => {
    const w = await world(2);
    const [completedId, scheduledId] = w.ids as [string, string];
    const end = await complete(w, completedId);
    const scheduledEnd = (await row(scheduledId))?.endTime as number;
    const target = Math.max(end, scheduledEnd) + 49 * HOUR;
    await setClock(env.DB, { advanceMs: target - Date.now() });
    try {
      await runScheduled(createScheduledController({ scheduledTime: target }), env, {
        waitUntil: () => undefined,
        passThroughOnException: () => undefined,
      } as unknown as ExecutionContext);
    } finally {
      await setClock(env.DB, { reset: true });
    }
    // The e-mails it enqueued have run before the file ends.
    await queueBarrier("JOBS");
    await expectSettledToTutor(w, completedId);
    expect(await row(scheduledId)).toMatchObject({
      status: "cancelled",
      cancelledBy: "system",
      settlementStatus: "refunded",
    });
    expect(await balanceOf(w.student.token)).toBe(20 - COST);
  });
});
