/**
 * The money table of a lesson (issue 13) through the routes that produce it: cancellations, no-show
 * reports both ways, the student's dispute and the admin's resolution. Every row checks the money
 * identities (student balance, ledger rows, the tutor's earning row, the session's split), is
 * replayed (nothing moves twice) and raced against its neighbour (exactly one wins). Lesson times
 * are moved into the past directly in the database, as the reschedule tests do.
 */
import { describe, expect, it } from "vitest";
import {
  call,
  createUser,
  env,
  eventually,
  expectProblem,
  fakeRequests,
  json,
  type TestUser,
  tokenFor,
} from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { balanceOf, book, createSubject, createTutor, fund, HOUR, slotAt, type Tutor } from "./helpers";

const MIN = 60_000;
const CENTS = 800; // TUTOR_PAYOUT_CENTS_PER_CREDIT's default
const FUNDS = 10;
const COST = 5; // price 5 an hour, 60 minutes

interface World {
  tutor: Tutor;
  student: TestUser;
  admin: TestUser;
  sessionId: string;
}

async function world(hoursAhead = 72): Promise<World> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: COST });
  const student = await createUser("student");
  const admin = await createUser("admin");
  await fund(student, FUNDS);
  const res = await book(student, tutor, subject.id, slotAt(hoursAhead), 60);
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  return { tutor, student, admin, sessionId: (await json<{ id: string }>(res)).id };
}

/** Moves the lesson so that it started `minutesAgo` minutes ago (one hour long). */
const startedAgo = (id: string, minutesAgo: number) => {
  const start = Date.now() - minutesAgo * MIN;
  return env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(start, start + HOUR, id)
    .run();
};

/** A lesson held and completed by its tutor, ended `minutesAgo` minutes ago. */
async function completedWorld(minutesAgo = 30) {
  const w = await world();
  await startedAgo(w.sessionId, 5); // a lesson starts only during its time
  expect((await post(w.tutor.token, `/v1/sessions/${w.sessionId}/start`)).status).toBe(200);
  expect((await post(w.tutor.token, `/v1/sessions/${w.sessionId}/complete`)).status).toBe(200);
  await startedAgo(w.sessionId, 60 + minutesAgo);
  return w;
}

const post = (token: string | undefined, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", token, body, headers });
const noShow = (token: string | undefined, w: World, party: unknown) =>
  post(token, `/v1/sessions/${w.sessionId}/no-show`, { party });
const dispute = (token: string | undefined, w: World, body: unknown = { reason: "The tutor never came" }) =>
  post(token, `/v1/sessions/${w.sessionId}/dispute`, body);
const resolve = (token: string | undefined, id: string, body: unknown, key?: string) =>
  post(token, `/v1/admin/sessions/${id}/resolve`, body, key ? { "idempotency-key": key } : {});

interface Row {
  startTime: number;
  status: string;
  settlementStatus: string;
  noShow: string | null;
  cancelledBy: string | null;
  cancellationReason: string | null;
  refundedCredits: number;
  earnedCredits: number;
  tutorEarningsCents: number;
  creditsCost: number;
  disputedAt: number | null;
  disputeReason: string | null;
  settledAt: number | null;
}
const row = async (id: string) =>
  (await env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(id).first<Row>()) as Row;

/**
 * The money identities of the world's session: the student got `refunded` back in one
 * `session_refund` entry (or none), the tutor earned the rest in one `session_earning` of its user id,
 * and the session's split says the same (and adds up to the cost once settled).
 */
async function expectMoney(w: World, refunded: number | "held") {
  const s = await row(w.sessionId);
  const refunds = await env.DB.prepare(
    "SELECT amount FROM creditsLedger WHERE sessionId = ? AND source = 'session_refund'",
  )
    .bind(w.sessionId)
    .all<{ amount: number }>();
  const earnings = await env.DB.prepare("SELECT userId, amountCents, source FROM earningsLedger WHERE sessionId = ?")
    .bind(w.sessionId)
    .all<{ userId: string; amountCents: number; source: string }>();
  if (refunded === "held") {
    expect(await balanceOf(w.student.token)).toBe(FUNDS - COST);
    expect(refunds.results).toEqual([]);
    expect(earnings.results).toEqual([]);
    expect(s).toMatchObject({ refundedCredits: 0, earnedCredits: 0, tutorEarningsCents: 0, settledAt: null });
    return s;
  }
  const earned = COST - refunded;
  expect(await balanceOf(w.student.token)).toBe(FUNDS - COST + refunded);
  expect(refunds.results).toEqual(refunded > 0 ? [{ amount: refunded }] : []);
  expect(earnings.results).toEqual(
    earned > 0 ? [{ userId: w.tutor.id, amountCents: earned * CENTS, source: "session_earning" }] : [],
  );
  expect(s).toMatchObject({
    refundedCredits: refunded,
    earnedCredits: earned,
    tutorEarningsCents: earned * CENTS,
    settlementStatus: earned > 0 ? "settled" : "refunded",
    settledAt: expect.any(Number),
  });
  expect(s.refundedCredits + s.earnedCredits).toBe(s.creditsCost);
  return s;
}

async function notes(token: string, type: string) {
  const page = await json<{ items: { type: string; data: Record<string, unknown> }[] }>(
    await call("/v1/notifications", { token }),
  );
  return page.items.filter((n) => n.type === type);
}

const audits = (targetId: string) =>
  env.DB.prepare("SELECT action, actorUserId, details FROM adminAuditLog WHERE targetId = ?")
    .bind(targetId)
    .all<{ action: string; actorUserId: string; details: string }>()
    .then((r) => r.results);

const mailTo = (email: string, subject: string) =>
  eventually(async () =>
    (await fakeRequests("/emails", email)).find((m) => m.body.includes(subject)) ? true : undefined,
  );

describe("cancellations: the first rows of the table", () => {
  it("student cancels at least the window ahead: all back, the tutor earns nothing; a repeat moves nothing", async () => {
    const w = await world(72);
    expect((await post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`)).status).toBe(200);
    await expectMoney(w, COST);
    await expectProblem(await post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`), 409, "conflict");
    await expectMoney(w, COST);
  });

  it("student cancels inside the window: nothing back, the tutor earns everything at once", async () => {
    const w = await world(72);
    await startedAgo(w.sessionId, -120); // starts in two hours
    const res = await post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "cancelled", cancelledBy: "student", refunded: false });
    await expectMoney(w, 0);
    await expectProblem(await post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`), 409, "conflict");
    await expectMoney(w, 0);
  });

  it("tutor cancels and admin cancels: all back, nothing earned; raced, exactly one wins", async () => {
    const w = await world(72);
    const [a, b] = await Promise.all([
      post(w.tutor.token, `/v1/sessions/${w.sessionId}/cancel`),
      post(w.admin.token, `/v1/sessions/${w.sessionId}/cancel`),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    await expectMoney(w, COST);
    await expectProblem(await post(w.admin.token, `/v1/sessions/${w.sessionId}/cancel`), 409, "conflict");
    await expectMoney(w, COST);
  });
});

describe("no-show reports", () => {
  it("tutor no-show reported by the student: cancelled by the tutor, all back, both told; a repeat is 409", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    const res = await noShow(w.student.token, w, "tutor");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: "cancelled",
      cancelledBy: "tutor",
      cancellationReason: "tutor_no_show",
      noShow: "tutor",
      refunded: true,
      settlementStatus: "refunded",
    });
    await expectMoney(w, COST);
    for (const user of [w.student, w.tutor]) {
      const n = await notes(user.token, "session_no_show");
      expect(n.map((x) => x.data)).toEqual([{ sessionId: w.sessionId, party: "tutor", refunded: true }]);
    }
    await mailTo(w.student.email, "No-show reported");
    await mailTo(w.tutor.email, "No-show reported");
    await expectProblem(await noShow(w.student.token, w, "tutor"), 409, "conflict");
    await expectMoney(w, COST);
    expect(await audits(w.sessionId)).toEqual([]);
    // the outgoing webhooks' events, once each (the refused repeat announced nothing)
    expect(await eventTypesOf(w.sessionId)).toEqual([
      "session.booked",
      "session.cancelled",
      "session.no_show",
      "session.settled",
    ]);
  });

  it("student no-show reported by the tutor: completed, still open, nothing moved; a repeat is 409", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    const res = await noShow(w.tutor.token, w, "student");
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "completed", noShow: "student", settlementStatus: "open" });
    await expectMoney(w, "held");
    for (const user of [w.student, w.tutor]) {
      const n = await notes(user.token, "session_no_show");
      expect(n.map((x) => x.data)).toEqual([{ sessionId: w.sessionId, party: "student", refunded: false }]);
    }
    await mailTo(w.student.email, "No-show reported");
    await expectProblem(await noShow(w.tutor.token, w, "student"), 409, "conflict");
    await expectProblem(await noShow(w.student.token, w, "tutor"), 409, "conflict");
    await expectMoney(w, "held");
    expect((await notes(w.tutor.token, "session_no_show")).length).toBe(1);
    expect(await eventTypesOf(w.sessionId)).toEqual(["session.booked", "session.no_show"]);
  });

  it("a student no-show on a lesson in progress; a tutor no-show is then refused (the tutor started it)", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    expect((await post(w.tutor.token, `/v1/sessions/${w.sessionId}/start`)).status).toBe(200);
    await expectProblem(await noShow(w.student.token, w, "tutor"), 409, "conflict");
    expect((await noShow(w.tutor.token, w, "student")).status).toBe(200);
    expect(await row(w.sessionId)).toMatchObject({ status: "completed", noShow: "student", settlementStatus: "open" });
    await expectMoney(w, "held");
  });

  it("an admin reports either party, with an audit row; an admin who is the student reports as the student", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    expect((await noShow(w.admin.token, w, "student")).status).toBe(200);
    const rows = await audits(w.sessionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "session.no_show", actorUserId: w.admin.id });
    expect(JSON.parse(rows[0]?.details ?? "{}")).toEqual({ party: "student" });

    const v = await world();
    await startedAgo(v.sessionId, 20);
    expect((await noShow(v.admin.token, v, "tutor")).status).toBe(200);
    await expectMoney(v, COST);
    const [audit] = await audits(v.sessionId);
    expect(audit?.action).toBe("session.no_show");
    expect(JSON.parse(audit?.details ?? "{}")).toMatchObject({
      party: "tutor",
      refundedCredits: COST,
      earnedCredits: 0,
    });

    // An admin who booked the lesson as its student is that student here: no report of their own absence.
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: COST });
    const adminStudent = await createUser("admin");
    await fund(adminStudent, FUNDS);
    const booked = await book(
      { ...adminStudent, token: await tokenFor(adminStudent.id, "student") },
      tutor,
      subject.id,
      slotAt(72),
    );
    expect(booked.status).toBe(201);
    const id = (await json<{ id: string }>(booked)).id;
    await startedAgo(id, 20);
    const self = await post(adminStudent.token, `/v1/sessions/${id}/no-show`, { party: "student" });
    await expectProblem(self, 403, "forbidden");
    expect((await post(adminStudent.token, `/v1/sessions/${id}/no-show`, { party: "tutor" })).status).toBe(200);
    expect(await audits(id)).toEqual([]);
  });

  it("who may report, and bad bodies (400)", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    const other = await createUser("student");
    const otherTutor = await createTutor((await createSubject()).id);
    await expectProblem(await noShow(undefined, w, "tutor"), 401, "unauthorized");
    await expectProblem(await noShow(other.token, w, "tutor"), 404, "not_found");
    await expectProblem(await noShow(otherTutor.token, w, "student"), 404, "not_found");
    await expectProblem(
      await post(w.student.token, "/v1/sessions/ses_nope/no-show", { party: "tutor" }),
      404,
      "not_found",
    );
    for (const body of [{}, { party: "admin" }, { party: 1 }, { party: "tutor", noShow: "student" }, []]) {
      await expectProblem(
        await post(w.student.token, `/v1/sessions/${w.sessionId}/no-show`, body),
        400,
        "validation_failed",
      );
    }
    expect((await row(w.sessionId)).status).toBe("scheduled");
    await expectMoney(w, "held");
  });

  it("nobody reports themselves (403)", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    await expectProblem(await noShow(w.student.token, w, "student"), 403, "forbidden");
    await expectProblem(await noShow(w.tutor.token, w, "tutor"), 403, "forbidden");
    await expectMoney(w, "held");
    expect((await row(w.sessionId)).status).toBe("scheduled");
  });

  it("the window: from the grace after the start until REPORT_WINDOW_HOURS after the end", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 10); // inside the 15-minute grace
    await expectProblem(await noShow(w.student.token, w, "tutor"), 409, "policy_window_closed");
    await expectProblem(await noShow(w.tutor.token, w, "student"), 409, "policy_window_closed");
    await startedAgo(w.sessionId, 60 + 48 * 60 + 1); // ended 48 h and a minute ago
    await expectProblem(await noShow(w.student.token, w, "tutor"), 409, "policy_window_closed");
    await expectProblem(await noShow(w.admin.token, w, "student"), 409, "policy_window_closed");
    await expectMoney(w, "held");
    await startedAgo(w.sessionId, 60 + 48 * 60 - 5); // still open, just
    expect((await noShow(w.student.token, w, "tutor")).status).toBe(200);
    await expectMoney(w, COST);
  });

  it("the two reports raced: exactly one wins and money moves at most once", async () => {
    for (let i = 0; i < 3; i++) {
      const w = await world();
      await startedAgo(w.sessionId, 20);
      const [a, b] = await Promise.all([noShow(w.student.token, w, "tutor"), noShow(w.tutor.token, w, "student")]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const s = await row(w.sessionId);
      if (s.noShow === "tutor") await expectMoney(w, COST);
      else {
        expect(s).toMatchObject({ status: "completed", noShow: "student" });
        await expectMoney(w, "held");
      }
    }
  });

  it("a tutor no-show raced against an admin's cancel: one wins, refunded once", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    const [a, b] = await Promise.all([
      noShow(w.student.token, w, "tutor"),
      post(w.admin.token, `/v1/sessions/${w.sessionId}/cancel`),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    await expectMoney(w, COST);
  });

  it("at the start boundary the student can neither cancel nor report yet; a report after the grace wins over a late cancel", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 1);
    const [c, n] = await Promise.all([
      post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`),
      noShow(w.student.token, w, "tutor"),
    ]);
    await expectProblem(c, 409, "policy_window_closed");
    await expectProblem(n, 409, "policy_window_closed");
    await startedAgo(w.sessionId, 16);
    const [c2, n2] = await Promise.all([
      post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`),
      noShow(w.student.token, w, "tutor"),
    ]);
    await expectProblem(c2, 409, "policy_window_closed");
    expect(n2.status).toBe(200);
    await expectMoney(w, COST);
  });
});

describe("dispute and resolution", () => {
  it("the student disputes: disputed, admins and both participants told; a repeat is 409", async () => {
    const w = await completedWorld();
    const res = await dispute(w.student.token, w, { reason: "  The tutor left after 5 minutes  " });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: "completed",
      settlementStatus: "disputed",
      disputedAt: expect.any(Number),
      disputeReason: "The tutor left after 5 minutes",
    });
    await expectMoney(w, "held");
    for (const user of [w.admin, w.student, w.tutor]) {
      expect((await notes(user.token, "session_disputed")).map((n) => n.data)).toEqual([{ sessionId: w.sessionId }]);
    }
    await mailTo(w.tutor.email, "Session disputed");
    await mailTo(w.student.email, "Session disputed");
    await expectProblem(await dispute(w.student.token, w), 409, "conflict");
    expect((await notes(w.tutor.token, "session_disputed")).length).toBe(1);
    expect(await eventTypesOf(w.sessionId)).toEqual(["session.booked", "session.completed", "session.disputed"]);
  });

  it("only while completed and open, and before the hold ends", async () => {
    const w = await world();
    await expectProblem(await dispute(w.student.token, w), 409, "conflict");
    const late = await completedWorld(48 * 60 + 1);
    await expectProblem(await dispute(late.student.token, late), 409, "policy_window_closed");
    await expectMoney(late, "held");
    const justInTime = await completedWorld(48 * 60 - 5);
    expect((await dispute(justInTime.student.token, justInTime)).status).toBe(200);
    // a dispute after the settlement is past the window
    const settled = await completedWorld();
    expect((await resolve(settled.admin.token, settled.sessionId, { refundCredits: 0, note: "held" })).status).toBe(
      200,
    );
    await expectProblem(await dispute(settled.student.token, settled), 409, "policy_window_closed");
  });

  it("who may dispute: the student only", async () => {
    const w = await completedWorld();
    const other = await createUser("student");
    const otherTutor = await createTutor((await createSubject()).id);
    await expectProblem(await dispute(undefined, w), 401, "unauthorized");
    await expectProblem(await dispute(other.token, w), 404, "not_found");
    await expectProblem(await dispute(otherTutor.token, w), 404, "not_found");
    await expectProblem(await dispute(w.tutor.token, w), 403, "forbidden");
    await expectProblem(await dispute(w.admin.token, w), 403, "forbidden");
    await expectProblem(
      await post(w.student.token, "/v1/sessions/ses_nope/dispute", { reason: "x" }),
      404,
      "not_found",
    );
    expect((await row(w.sessionId)).settlementStatus).toBe("open");
  });

  it("bad dispute bodies are 400", async () => {
    const w = await completedWorld();
    for (const body of [
      {},
      { reason: "" },
      { reason: "   " },
      { reason: 5 },
      { reason: "x".repeat(2001) },
      { reason: "x", status: "settled" },
    ]) {
      await expectProblem(await dispute(w.student.token, w, body), 400, "validation_failed");
    }
    expect((await row(w.sessionId)).settlementStatus).toBe("open");
  });

  it("resolved with a partial refund r: r back, the tutor earns cost − r; the same key replays, another body is 422", async () => {
    const w = await completedWorld();
    expect((await dispute(w.student.token, w)).status).toBe(200);
    const body = { refundCredits: 2, note: "Half the lesson happened" };
    const res = await resolve(w.admin.token, w.sessionId, body, "res-1");
    expect(res.status).toBe(200);
    const first = await json(res);
    expect(first).toMatchObject({
      status: "completed",
      settlementStatus: "settled",
      refundedCredits: 2,
      earnedCredits: 3,
    });
    await expectMoney(w, 2);
    const again = await resolve(w.admin.token, w.sessionId, body, "res-1");
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(first);
    await expectProblem(
      await resolve(w.admin.token, w.sessionId, { refundCredits: 5, note: "Half the lesson happened" }, "res-1"),
      422,
      "idempotency_conflict",
    );
    await expectProblem(await resolve(w.admin.token, w.sessionId, body), 409, "conflict");
    await expectProblem(await resolve(w.admin.token, w.sessionId, body, "res-2"), 409, "conflict");
    await expectMoney(w, 2);
    const rows = await audits(w.sessionId);
    expect(rows.map((r) => r.action)).toEqual(["session.resolve"]);
    expect(JSON.parse(rows[0]?.details ?? "{}")).toEqual({
      note: "Half the lesson happened",
      refundCredits: 2,
      refundedCredits: 2,
      earnedCredits: 3,
    });
    for (const user of [w.student, w.tutor]) {
      expect((await notes(user.token, "session_resolved")).map((n) => n.data)).toEqual([
        { sessionId: w.sessionId, refundedCredits: 2, creditsCost: COST },
      ]);
    }
    await mailTo(w.tutor.email, "Session dispute resolved");
  });

  it("resolved with everything back is refunded; an open completed lesson resolved with 0 is settled", async () => {
    const w = await completedWorld();
    expect((await dispute(w.student.token, w)).status).toBe(200);
    expect((await resolve(w.admin.token, w.sessionId, { refundCredits: COST, note: "No lesson" })).status).toBe(200);
    expect((await expectMoney(w, COST)).settlementStatus).toBe("refunded");
    const v = await completedWorld();
    expect((await resolve(v.admin.token, v.sessionId, { refundCredits: 0, note: "Fine" })).status).toBe(200);
    expect((await expectMoney(v, 0)).settlementStatus).toBe("settled");
  });

  it("a student no-show, disputed and resolved", async () => {
    const w = await world();
    await startedAgo(w.sessionId, 20);
    expect((await noShow(w.tutor.token, w, "student")).status).toBe(200);
    expect((await dispute(w.student.token, w)).status).toBe(200);
    expect((await resolve(w.admin.token, w.sessionId, { refundCredits: 1, note: "Partly" })).status).toBe(200);
    await expectMoney(w, 1);
    expect(await eventTypesOf(w.sessionId)).toEqual([
      "session.booked",
      "session.no_show",
      "session.disputed",
      "session.settled",
    ]);
  });

  it("resolve: refused states, out-of-range refunds, bad bodies, unknown sessions, who", async () => {
    const w = await world();
    await expectProblem(await resolve(w.admin.token, w.sessionId, { refundCredits: 0, note: "x" }), 409, "conflict");
    const c = await completedWorld();
    await expectProblem(
      await resolve(c.admin.token, c.sessionId, { refundCredits: COST + 1, note: "x" }),
      400,
      "validation_failed",
    );
    for (const body of [
      {},
      { refundCredits: 1 },
      { refundCredits: -1, note: "x" },
      { refundCredits: 1.5, note: "x" },
      { refundCredits: "1", note: "x" },
      { refundCredits: 1, note: "" },
      { refundCredits: 1, note: "x".repeat(2001) },
      { refundCredits: 1, note: "x", settlementStatus: "settled" },
    ]) {
      await expectProblem(await resolve(c.admin.token, c.sessionId, body), 400, "validation_failed");
    }
    await expectProblem(await resolve(c.admin.token, "ses_nope", { refundCredits: 0, note: "x" }), 404, "not_found");
    const ok = { refundCredits: 0, note: "x" };
    await expectProblem(await resolve(undefined, c.sessionId, ok), 401, "unauthorized");
    await expectProblem(await resolve(c.student.token, c.sessionId, ok), 403, "forbidden");
    await expectProblem(await resolve(c.tutor.token, c.sessionId, ok), 403, "forbidden");
    await expectMoney(c, "held");
    expect(await audits(c.sessionId)).toEqual([]);
  });

  it("two admins resolve at once with different amounts: exactly one wins, its amount moves once", async () => {
    for (let i = 0; i < 3; i++) {
      const w = await completedWorld();
      expect((await dispute(w.student.token, w)).status).toBe(200);
      const other = await createUser("admin");
      const [a, b] = await Promise.all([
        resolve(w.admin.token, w.sessionId, { refundCredits: 1, note: "one" }, `k-${i}`),
        resolve(other.token, w.sessionId, { refundCredits: 4, note: "four" }, `k-${i}`),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const won = a.status === 200 ? 1 : 4;
      await expectMoney(w, won);
      expect((await audits(w.sessionId)).length).toBe(1);
    }
  });

  it("a dispute raced against a resolution: money moves once, in either order", async () => {
    for (let i = 0; i < 3; i++) {
      const w = await completedWorld();
      const [d, r] = await Promise.all([
        dispute(w.student.token, w),
        resolve(w.admin.token, w.sessionId, { refundCredits: 2, note: "race" }),
      ]);
      expect(r.status).toBe(200);
      // The dispute either came first (and the resolution settled it) or found it settled (past the
      // window), or lost the race inside the write (the state moved: a conflict).
      if (d.status === 200) expect((await row(w.sessionId)).disputedAt).toEqual(expect.any(Number));
      else {
        expect(d.status).toBe(409);
        expect(["conflict", "policy_window_closed"]).toContain((await d.clone().json<{ code: string }>()).code);
      }
      await expectMoney(w, 2);
    }
  });
});

describe("GET /v1/admin/sessions?settlementStatus=", () => {
  it("lists the disputed queue, alone or with a status; other values are 400", async () => {
    const w = await completedWorld();
    expect((await dispute(w.student.token, w)).status).toBe(200);
    const open = await completedWorld();
    const ids = async (q: string) =>
      (
        await json<{ items: { id: string; settlementStatus: string }[] }>(
          await call(`/v1/admin/sessions?${q}`, { token: w.admin.token }),
        )
      ).items;
    const disputed = await ids("settlementStatus=disputed&limit=100");
    expect(disputed.map((s) => s.id)).toContain(w.sessionId);
    expect(disputed.map((s) => s.id)).not.toContain(open.sessionId);
    expect(disputed.every((s) => s.settlementStatus === "disputed")).toBe(true);
    expect((await ids("settlementStatus=disputed&status=completed&limit=100")).map((s) => s.id)).toContain(w.sessionId);
    expect(await ids("settlementStatus=disputed&status=scheduled&limit=100")).toEqual([]);
    expect((await ids("settlementStatus=open&limit=100")).map((s) => s.id)).toContain(open.sessionId);
    await expectProblem(
      await call("/v1/admin/sessions?settlementStatus=held", { token: w.admin.token }),
      400,
      "validation_failed",
    );
  });
});

describe("decisions stay tied to the lesson's time (review fixes)", () => {
  it("an admin who is the session's student cancels late as the student: no refund, the tutor earns", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: COST });
    const adminStudent = await createUser("admin");
    await fund(adminStudent, FUNDS);
    const asStudent = { ...adminStudent, token: await tokenFor(adminStudent.id, "student") };
    const res = await book(asStudent, tutor, subject.id, slotAt(2), 60);
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    // with the admin token: still the session's student for the refund rule
    const out = await post(adminStudent.token, `/v1/sessions/${id}/cancel`, {});
    expect(out.status).toBe(200);
    expect(await json(out)).toMatchObject({
      cancelledBy: "student",
      settlementStatus: "settled",
      refundedCredits: 0,
      earnedCredits: COST,
    });
    expect(await balanceOf(asStudent.token)).toBe(FUNDS - COST);
  });

  it("a cancel raced against a reschedule applies the refund rule to the time it read, never another", async () => {
    for (let i = 0; i < 3; i++) {
      const w = await world(72);
      const to = slotAt(20); // inside the 24-hour window: a late cancel there refunds nothing
      const [moved, cancelled] = await Promise.all([
        post(
          w.tutor.token,
          `/v1/sessions/${w.sessionId}/reschedule`,
          { startTime: to },
          {
            "idempotency-key": crypto.randomUUID(),
          },
        ),
        post(w.student.token, `/v1/sessions/${w.sessionId}/cancel`, {}),
      ]);
      const r = await row(w.sessionId);
      if (cancelled.status === 200 && r.refundedCredits === COST) {
        // cancelled at the old time (72 h ahead): the reschedule lost
        expect(moved.status).toBe(409);
        expect(r.startTime).not.toBe(to);
      } else if (cancelled.status === 200) {
        // cancelled after the move, at the new time: a late cancel
        expect(moved.status).toBe(200);
        expect(r).toMatchObject({ startTime: to, settlementStatus: "settled", earnedCredits: COST });
      } else {
        // the cancel decided on the old time but the lesson moved before it wrote: nothing moved
        expect(cancelled.status).toBe(409);
        expect(moved.status).toBe(200);
        expect(r).toMatchObject({ status: "scheduled", settlementStatus: "open" });
      }
    }
  });

  it("a cancellation decided on a start time the lesson no longer has writes nothing", async () => {
    const w = await world(72);
    // the lesson moves after the service read it: simulated by moving it between read and write
    const original = (await row(w.sessionId)).startTime;
    await env.DB.prepare("UPDATE sessions SET startTime = startTime + ?, endTime = endTime + ? WHERE id = ?")
      .bind(HOUR, HOUR, w.sessionId)
      .run();
    const stub = env.CREDIT_LEDGER.get(env.CREDIT_LEDGER.idFromName(w.student.id));
    const out = await stub.settleSession({
      sessionId: w.sessionId,
      studentUserId: w.student.id,
      tutorUserId: w.tutor.id,
      at: Date.now(),
      from: { status: ["scheduled"], settlement: ["open"], where: { sql: "startTime = ?", binds: [original] } },
      set: { status: "cancelled", cancelledBy: "student", cancellationReason: null },
      refund: "all",
      centsPerCredit: CENTS,
      currency: "usd",
      notify: [],
    });
    expect(out).toMatchObject({ ok: false, code: "conflict" });
    expect(await row(w.sessionId)).toMatchObject({ status: "scheduled", settlementStatus: "open", refundedCredits: 0 });
    expect(await balanceOf(w.student.token)).toBe(FUNDS - COST);
  });

  it("a lesson cannot be started after its end; completing it tells the student (in-app and e-mail)", async () => {
    const late = await world();
    await startedAgo(late.sessionId, 61);
    await expectProblem(await post(late.tutor.token, `/v1/sessions/${late.sessionId}/start`), 409, "conflict");
    const w = await completedWorld();
    const notes = await json<{ items: { type: string; data: Record<string, unknown> }[] }>(
      await call("/v1/notifications", { token: w.student.token }),
    );
    expect(notes.items.filter((n) => n.type === "session_completed").map((n) => n.data)).toEqual([
      { sessionId: w.sessionId },
    ]);
    await mailTo(w.student.email, "Session completed");
  });
});
