/**
 * The lesson lifecycle end to end, black box, on the test clock and the cron (wrangler's scheduled-
 * handler URL): five lessons of one student with one tutor walk every ending —
 *   A: book → reschedule → start → complete → (hold) → settled → the tutor's earnings;
 *   B: the tutor never comes: the student reports it → cancelled, refunded at once;
 *   C: the tutor reports a student no-show → the student disputes → an admin resolves with a refund;
 *   D: the tutor reports a student no-show, nobody disputes → settled after the hold;
 *   E: never started, nobody reports → cancelled by the system, refunded.
 * Serial: it moves "now" for the whole server (and the sweeps act on every due session there is);
 * the clock is reset afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { idempotencyKey, unwrap } from "../../sdk/src/index.ts";
import {
  adminEmail,
  balance,
  c,
  dataOf,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  QUARTER,
  type Student,
  sdkAs,
  type Tokens,
  type Tutor,
} from "../helpers.ts";

const HOUR = 3600_000;
const CENTS_PER_CREDIT = 800;

const anyone = sdkAs();
const clock = async (body: { advanceMs: number } | { reset: true }) =>
  unwrap(await anyone.POST("/v1/dev/clock", { body }));
const serverNow = async () => unwrap(await anyone.GET("/v1/dev/clock")).now;
/** Moves the server's clock forward to `at` (never back). */
async function advanceTo(at: number) {
  const now = await serverNow();
  assert.ok(at >= now, `the clock only moves forward (${at} < ${now})`);
  await clock({ advanceMs: at - now });
}
const cron = async () => {
  const r = await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`);
  assert.equal(r.status, 200);
};
const id = (sessionId: string) => ({ path: { id: sessionId } });

describe("lesson lifecycle on the test clock", () => {
  let admin: Tokens;
  let t: Tutor;
  let s: Student;
  let t0: number;
  const ids: Record<"A" | "B" | "C" | "D" | "E", string> = { A: "", B: "", C: "", D: "", E: "" };

  const get = async (sessionId: string, token = s.token) =>
    unwrap(await sdkAs(token).GET("/v1/sessions/{id}", { params: id(sessionId) }));
  const noShow = (sessionId: string, token: string, party: "student" | "tutor") =>
    sdkAs(token).POST("/v1/sessions/{id}/no-show", { params: id(sessionId), body: { party } });
  const dispute = (sessionId: string, token: string, reason: string) =>
    sdkAs(token).POST("/v1/sessions/{id}/dispute", { params: id(sessionId), body: { reason } });
  const earnings = async () => unwrap(await sdkAs(t.token).GET("/v1/me/earnings"));

  before(async () => {
    admin = await c.login(adminEmail("life"));
    const subject = await newSubject(admin);
    t = await newTutor(admin, [subject.id], 2);
    s = await newStudent();
    await fund(admin, s.userId, 20);
    t0 = Math.ceil((await serverNow()) / QUARTER) * QUARTER;
    const at = { A: 26, B: 27, C: 28, D: 30, E: 32 } as const;
    for (const k of Object.keys(at) as (keyof typeof at)[]) {
      const booked = dataOf(
        await sdkAs(s.token).POST("/v1/sessions", {
          body: {
            tutorProfileId: t.profileId,
            subjectId: subject.id,
            startTime: t0 + at[k] * HOUR,
            durationMinutes: 60,
          },
        }),
        201,
      );
      ids[k] = booked.id;
      assert.equal(booked.settlementStatus, "open");
    }
    assert.equal(await balance(s), 10);
  });

  after(async () => {
    await clock({ reset: true });
  });

  it("A is rescheduled; its held credits show as the tutor's pending earnings", async () => {
    const moved = dataOf(
      await sdkAs(s.token).POST("/v1/sessions/{id}/reschedule", {
        params: { ...id(ids.A), header: idempotencyKey() },
        body: { startTime: t0 + 40 * HOUR },
      }),
      200,
    );
    assert.equal(moved.startTime, t0 + 40 * HOUR);
    const e = await earnings();
    assert.deepEqual(e, {
      balanceCents: 0,
      pendingCents: 5 * 2 * CENTS_PER_CREDIT,
      currency: "usd",
      payoutsEnabled: false,
    });
  });

  it("B: the student reports the tutor's no-show → cancelled by the tutor, refunded at once", async () => {
    const b = await get(ids.B);
    expectProblemOf(await noShow(ids.B, s.token, "tutor"), 409, "policy_window_closed");
    await advanceTo(b.startTime + 20 * 60_000);
    expectProblemOf(await noShow(ids.B, s.token, "student"), 403, "forbidden");
    expectProblemOf(
      await sdkAs(s.token).POST("/v1/sessions/{id}/cancel", { params: id(ids.B), body: {} }),
      409,
      "policy_window_closed",
    );
    const r = dataOf(await noShow(ids.B, s.token, "tutor"), 200);
    assert.equal(r.status, "cancelled");
    assert.equal(r.noShow, "tutor");
    assert.equal(r.cancelledBy, "tutor");
    assert.equal(r.settlementStatus, "refunded");
    assert.equal(r.refundedCredits, 2);
    expectProblemOf(await noShow(ids.B, s.token, "tutor"), 409, "conflict");
    assert.equal(await balance(s), 12);
    const notes = unwrap(await sdkAs(t.token).GET("/v1/notifications"));
    assert.ok(notes.items.some((n) => n.type === "session_no_show" && n.data.sessionId === ids.B));
  });

  it("C: a student no-show is disputed and an admin resolves it with a partial refund", async () => {
    const cs = await get(ids.C);
    await advanceTo(cs.startTime + 20 * 60_000);
    const reported = dataOf(await noShow(ids.C, t.token, "student"), 200);
    assert.equal(reported.status, "completed");
    assert.equal(reported.noShow, "student");
    assert.equal(reported.settlementStatus, "open");

    expectProblemOf(await dispute(ids.C, t.token, "x"), 403, "forbidden");
    const disputed = dataOf(await dispute(ids.C, s.token, "I was there; the link failed."), 200);
    assert.equal(disputed.settlementStatus, "disputed");
    assert.equal(disputed.status, "completed");

    const asAdmin = sdkAs(admin.accessToken);
    const queue = unwrap(
      await asAdmin.GET("/v1/admin/sessions", { params: { query: { settlementStatus: "disputed", limit: 100 } } }),
    );
    assert.ok(
      queue.items.some((x) => x.id === ids.C),
      "the disputed session is in the back office's list",
    );

    const key = crypto.randomUUID();
    const body = { refundCredits: 1, note: "Half refunded: the room link failed for a while." };
    const resolve = (k: string) =>
      asAdmin.POST("/v1/admin/sessions/{id}/resolve", { params: { ...id(ids.C), header: idempotencyKey(k) }, body });
    const resolved = dataOf(await resolve(key), 200);
    assert.equal(resolved.settlementStatus, "settled");
    assert.equal(resolved.refundedCredits, 1);
    assert.equal(resolved.earnedCredits, 1);
    assert.equal(resolved.tutorEarningsCents, CENTS_PER_CREDIT);
    const replay = dataOf(await resolve(key), 200);
    assert.equal(replay.settledAt, resolved.settledAt);
    expectProblemOf(await resolve(crypto.randomUUID()), 409, "conflict");
    assert.equal(await balance(s), 13);
    assert.equal((await earnings()).balanceCents, CENTS_PER_CREDIT);

    const log = unwrap(await asAdmin.GET("/v1/admin/audit-log", { params: { query: { targetId: ids.C } } }));
    assert.deepEqual(
      log.items.map((r) => r.action),
      ["session.resolve"],
    );
  });

  it("D: a student no-show nobody disputes; A is started and completed on time", async () => {
    const d = await get(ids.D);
    await advanceTo(d.startTime + 20 * 60_000);
    assert.equal((await noShow(ids.D, t.token, "student")).response.status, 200);

    const a = await get(ids.A);
    await advanceTo(a.startTime - 5 * 60_000);
    assert.equal((await sdkAs(t.token).POST("/v1/sessions/{id}/start", { params: id(ids.A) })).response.status, 200);
    await advanceTo(a.endTime);
    const done = dataOf(await sdkAs(t.token).POST("/v1/sessions/{id}/complete", { params: id(ids.A) }), 200);
    assert.equal(done.settlementStatus, "open");
    await cron(); // inside the hold: nothing is settled
    assert.equal((await get(ids.A)).settlementStatus, "open");
    assert.equal((await earnings()).balanceCents, CENTS_PER_CREDIT);
  });

  it("after the hold the cron settles A and D and cancels E (never held); the earnings add up", async () => {
    const a = await get(ids.A);
    await advanceTo(a.endTime + 49 * HOUR);
    await cron();
    // the sweeps drain their backlog (every due session of the whole suite) in bounded batches
    await poll("A, D and E swept", 60_000, async () => {
      const [sa, sd, se] = await Promise.all([get(ids.A), get(ids.D), get(ids.E)]);
      return sa.settlementStatus === "settled" && sd.settlementStatus === "settled" && se.status === "cancelled"
        ? true
        : undefined;
    });
    const e = await get(ids.E);
    assert.equal(e.cancelledBy, "system");
    assert.equal(e.cancellationReason, "not_held");
    assert.equal(e.settlementStatus, "refunded");
    for (const x of [await get(ids.A), await get(ids.D)]) {
      assert.equal(x.earnedCredits, 2);
      assert.equal(x.refundedCredits, 0);
      assert.equal(x.tutorEarningsCents, 2 * CENTS_PER_CREDIT);
    }
    await cron(); // a second run moves nothing more
    assert.equal(await balance(s), 15); // 20 − 5 × 2 + B 2 + C 1 + E 2
    const total = CENTS_PER_CREDIT * (1 + 2 + 2); // C's half + A + D
    assert.deepEqual(await earnings(), {
      balanceCents: total,
      pendingCents: 0,
      currency: "usd",
      payoutsEnabled: false,
    });

    const ledger = unwrap(await sdkAs(t.token).GET("/v1/me/earnings/ledger"));
    assert.deepEqual(
      ledger.items.map((x) => [x.source, x.sessionId, x.amountCents]).sort(),
      [
        ["session_earning", ids.A, 1600],
        ["session_earning", ids.C, 800],
        ["session_earning", ids.D, 1600],
      ].sort(),
    );
    assert.equal(ledger.items[0]?.balanceAfterCents, total, "newest first, the chain ends at the balance");
    await c.mail(t.email, /you earned 16\.00 USD/);

    const rec = unwrap(await sdkAs(admin.accessToken).GET("/v1/admin/reconciliation"));
    assert.equal(rec.balanced, true, JSON.stringify(rec));
  });
});
