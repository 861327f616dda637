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
import {
  adminEmail,
  balance,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  QUARTER,
  type Session,
  type Student,
  type Tokens,
  type Tutor,
} from "../helpers.ts";

const HOUR = 3600_000;
const CENTS_PER_CREDIT = 800;

interface LifecycleSession extends Session {
  noShow: "student" | "tutor" | null;
  settlementStatus: "open" | "disputed" | "settled" | "refunded";
  refundedCredits: number;
  earnedCredits: number;
  tutorEarningsCents: number;
  settledAt: number | null;
  cancelledBy: string | null;
  cancellationReason: string | null;
}

interface Earnings {
  balanceCents: number;
  pendingCents: number;
  currency: string;
  payoutsEnabled: boolean;
}

const clock = (body: unknown) => c.ok<{ now: number; offsetMs: number }>("/v1/dev/clock", { body });
const serverNow = async () => (await c.ok<{ now: number }>("/v1/dev/clock")).now;
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

describe("lesson lifecycle on the test clock", () => {
  let admin: Tokens;
  let t: Tutor;
  let s: Student;
  let t0: number;
  const ids: Record<"A" | "B" | "C" | "D" | "E", string> = { A: "", B: "", C: "", D: "", E: "" };

  const get = (id: string, token = s.token) => c.ok<LifecycleSession>(`/v1/sessions/${id}`, { token });
  const post = (path: string, token: string, body?: unknown, headers?: Record<string, string>) =>
    c.call<LifecycleSession>(path, { method: "POST", token, body, headers });
  const earnings = () => c.ok<Earnings>("/v1/me/earnings", { token: t.token });

  before(async () => {
    admin = await c.login(adminEmail("life"));
    const subject = await newSubject(admin);
    t = await newTutor(admin, [subject.id], 2);
    s = await newStudent();
    await fund(admin, s.userId, 20);
    t0 = Math.ceil((await serverNow()) / QUARTER) * QUARTER;
    const at = { A: 26, B: 27, C: 28, D: 30, E: 32 } as const;
    for (const k of Object.keys(at) as (keyof typeof at)[]) {
      const r = await book(s, t, subject.id, t0 + at[k] * HOUR, 60);
      assert.equal(r.status, 201, r.text);
      ids[k] = r.body.id;
      assert.equal((r.body as LifecycleSession).settlementStatus, "open");
    }
    assert.equal(await balance(s), 10);
  });

  after(async () => {
    await clock({ reset: true });
  });

  it("A is rescheduled; its held credits show as the tutor's pending earnings", async () => {
    const moved = await post(
      `/v1/sessions/${ids.A}/reschedule`,
      s.token,
      { startTime: t0 + 40 * HOUR },
      {
        "idempotency-key": crypto.randomUUID(),
      },
    );
    assert.equal(moved.status, 200, moved.text);
    assert.equal(moved.body.startTime, t0 + 40 * HOUR);
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
    await expectProblem(
      await post(`/v1/sessions/${ids.B}/no-show`, s.token, { party: "tutor" }),
      409,
      "policy_window_closed",
    );
    await advanceTo(b.startTime + 20 * 60_000);
    await expectProblem(await post(`/v1/sessions/${ids.B}/no-show`, s.token, { party: "student" }), 403, "forbidden");
    await expectProblem(await post(`/v1/sessions/${ids.B}/cancel`, s.token, {}), 409, "policy_window_closed");
    const r = await post(`/v1/sessions/${ids.B}/no-show`, s.token, { party: "tutor" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, "cancelled");
    assert.equal(r.body.noShow, "tutor");
    assert.equal(r.body.cancelledBy, "tutor");
    assert.equal(r.body.settlementStatus, "refunded");
    assert.equal(r.body.refundedCredits, 2);
    await expectProblem(await post(`/v1/sessions/${ids.B}/no-show`, s.token, { party: "tutor" }), 409, "conflict");
    assert.equal(await balance(s), 12);
    const notes = await c.ok<{ items: { type: string; data: Record<string, unknown> }[] }>("/v1/notifications", {
      token: t.token,
    });
    assert.ok(notes.items.some((n) => n.type === "session_no_show" && n.data.sessionId === ids.B));
  });

  it("C: a student no-show is disputed and an admin resolves it with a partial refund", async () => {
    const cs = await get(ids.C);
    await advanceTo(cs.startTime + 20 * 60_000);
    const reported = await post(`/v1/sessions/${ids.C}/no-show`, t.token, { party: "student" });
    assert.equal(reported.status, 200, reported.text);
    assert.equal(reported.body.status, "completed");
    assert.equal(reported.body.noShow, "student");
    assert.equal(reported.body.settlementStatus, "open");

    await expectProblem(await post(`/v1/sessions/${ids.C}/dispute`, t.token, { reason: "x" }), 403, "forbidden");
    const disputed = await post(`/v1/sessions/${ids.C}/dispute`, s.token, { reason: "I was there; the link failed." });
    assert.equal(disputed.status, 200, disputed.text);
    assert.equal(disputed.body.settlementStatus, "disputed");
    assert.equal(disputed.body.status, "completed");

    const queue = await c.ok<{ items: { id: string }[] }>("/v1/admin/sessions?settlementStatus=disputed&limit=100", {
      token: admin.accessToken,
    });
    assert.ok(
      queue.items.some((x) => x.id === ids.C),
      "the disputed session is in the back office's list",
    );

    const key = crypto.randomUUID();
    const body = { refundCredits: 1, note: "Half refunded: the room link failed for a while." };
    const resolve = () =>
      post(`/v1/admin/sessions/${ids.C}/resolve`, admin.accessToken, body, { "idempotency-key": key });
    const resolved = await resolve();
    assert.equal(resolved.status, 200, resolved.text);
    assert.equal(resolved.body.settlementStatus, "settled");
    assert.equal(resolved.body.refundedCredits, 1);
    assert.equal(resolved.body.earnedCredits, 1);
    assert.equal(resolved.body.tutorEarningsCents, CENTS_PER_CREDIT);
    const replay = await resolve();
    assert.equal(replay.status, 200);
    assert.equal(replay.body.settledAt, resolved.body.settledAt);
    await expectProblem(
      await post(`/v1/admin/sessions/${ids.C}/resolve`, admin.accessToken, body, {
        "idempotency-key": crypto.randomUUID(),
      }),
      409,
      "conflict",
    );
    assert.equal(await balance(s), 13);
    assert.equal((await earnings()).balanceCents, CENTS_PER_CREDIT);

    const log = await c.ok<{ items: { action: string; details: Record<string, unknown> }[] }>(
      `/v1/admin/audit-log?targetId=${ids.C}`,
      { token: admin.accessToken },
    );
    assert.deepEqual(
      log.items.map((r) => r.action),
      ["session.resolve"],
    );
  });

  it("D: a student no-show nobody disputes; A is started and completed on time", async () => {
    const d = await get(ids.D);
    await advanceTo(d.startTime + 20 * 60_000);
    assert.equal((await post(`/v1/sessions/${ids.D}/no-show`, t.token, { party: "student" })).status, 200);

    const a = await get(ids.A);
    await advanceTo(a.startTime - 5 * 60_000);
    assert.equal((await post(`/v1/sessions/${ids.A}/start`, t.token)).status, 200);
    await advanceTo(a.endTime);
    const done = await post(`/v1/sessions/${ids.A}/complete`, t.token);
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.settlementStatus, "open");
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
    for (const id of [ids.A, ids.D]) {
      const x = await get(id);
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

    const ledger = await c.ok<{
      items: { source: string; amountCents: number; balanceAfterCents: number; sessionId: string }[];
    }>("/v1/me/earnings/ledger", { token: t.token });
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

    const rec = await c.ok<{ balanced: boolean }>("/v1/admin/reconciliation", { token: admin.accessToken });
    assert.equal(rec.balanced, true, JSON.stringify(rec));
  });
});
