/**
 * POST /v1/sessions/:id/reschedule: who may move a lesson and until when, every booking rule for the
 * new time, Idempotency-Key, no ledger entry, reminders that follow the new time, the other party's
 * notification, the admin's audit row, and the one conditional write under concurrency. Also the
 * cancel rule that shares its window: participants only before the start.
 */
import { describe, expect, it } from "vitest";
import { jobContext } from "../../src/jobs/context";
import { sendReminders } from "../../src/modules/sessions/reminders";
import { call, createUser, env, expectProblem, json, type TestUser } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { balanceOf, book, createSubject, createTutor, DAY, fund, HOUR, slotAt, type Tutor } from "./helpers";

interface World {
  subjectId: string;
  tutor: Tutor;
  student: TestUser;
  sessionId: string;
  start: number;
}

async function world(hoursAhead = 72, opts: { weekly?: { weekday: number; start: string; end: string }[] } = {}) {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2, weekly: opts.weekly });
  const student = await createUser("student");
  await fund(student, 10);
  const start = slotAt(hoursAhead);
  const res = await book(student, tutor, subject.id, start, 60);
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  const w: World = { subjectId: subject.id, tutor, student, sessionId: (await json<{ id: string }>(res)).id, start };
  return w;
}

const reschedule = (token: string | undefined, id: string, startTime: unknown, headers: Record<string, string> = {}) =>
  call(`/v1/sessions/${id}/reschedule`, { token, body: { startTime }, headers });

const setStart = (id: string, startTime: number) =>
  env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(startTime, startTime + HOUR, id)
    .run();

const row = (id: string) =>
  env.DB.prepare("SELECT * FROM sessions WHERE id = ?")
    .bind(id)
    .first<{ startTime: number; endTime: number; reminder24hSentAt: number | null; rescheduledAt: number | null }>();

async function rescheduleNotes(token: string) {
  const page = await json<{ items: { type: string; data: Record<string, unknown> }[] }>(
    await call("/v1/notifications", { token }),
  );
  return page.items.filter((n) => n.type === "session_rescheduled");
}

describe("reschedule: who and when", () => {
  it("the student moves the lesson: same duration and cost, no ledger entry, the tutor is told", async () => {
    const w = await world(72);
    const to = slotAt(96);
    const res = await reschedule(w.student.token, w.sessionId, to);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({
      id: w.sessionId,
      status: "scheduled",
      startTime: to,
      endTime: to + HOUR,
      creditsCost: 2,
      rescheduledAt: expect.any(Number),
    });
    expect(await balanceOf(w.student.token)).toBe(8);
    const ledger = await env.DB.prepare("SELECT source FROM creditsLedger WHERE sessionId = ?")
      .bind(w.sessionId)
      .all<{ source: string }>();
    expect(ledger.results.map((r) => r.source)).toEqual(["session_booking"]);
    const notes = await rescheduleNotes(w.tutor.token);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.data).toEqual({
      sessionId: w.sessionId,
      previousStartTime: w.start,
      startTime: to,
      endTime: to + HOUR,
      rescheduledBy: "student",
    });
    expect(await rescheduleNotes(w.student.token)).toHaveLength(0);
    const got = await json(await call(`/v1/sessions/${w.sessionId}`, { token: w.tutor.token }));
    expect(got).toMatchObject({ startTime: to, rescheduledAt: body.rescheduledAt });
    expect(await eventTypesOf(w.sessionId)).toEqual(["session.booked", "session.rescheduled"]);
  });

  it("the tutor moves it (the student is told); an admin moves it (both told, one audit row)", async () => {
    const w = await world(72);
    const byTutor = slotAt(80);
    expect((await reschedule(w.tutor.token, w.sessionId, byTutor)).status).toBe(200);
    expect((await rescheduleNotes(w.student.token))[0]?.data).toMatchObject({ rescheduledBy: "tutor" });
    expect(await rescheduleNotes(w.tutor.token)).toHaveLength(0);
    const admin = await createUser("admin");
    const byAdmin = slotAt(90);
    expect((await reschedule(admin.token, w.sessionId, byAdmin)).status).toBe(200);
    expect((await rescheduleNotes(w.student.token)).map((n) => n.data.rescheduledBy).sort()).toEqual([
      "admin",
      "tutor",
    ]);
    expect((await rescheduleNotes(w.tutor.token))[0]?.data).toMatchObject({ rescheduledBy: "admin" });
    const audit = await env.DB.prepare(
      "SELECT actorUserId, action, targetType, details FROM adminAuditLog WHERE targetId = ?",
    )
      .bind(w.sessionId)
      .all<{ actorUserId: string; action: string; targetType: string; details: string }>();
    expect(audit.results).toHaveLength(1);
    expect(audit.results[0]).toMatchObject({
      actorUserId: admin.id,
      action: "session.reschedule",
      targetType: "session",
    });
    expect(JSON.parse(audit.results[0]?.details ?? "{}")).toEqual({ previousStartTime: byTutor, startTime: byAdmin });
  });

  it("anonymous 401; another student or tutor 404", async () => {
    const w = await world(72);
    await expectProblem(await reschedule(undefined, w.sessionId, slotAt(96)), 401, "unauthorized");
    const other = await createUser("student");
    await expectProblem(await reschedule(other.token, w.sessionId, slotAt(96)), 404, "not_found");
    const otherTutor = await createTutor(w.subjectId);
    await expectProblem(await reschedule(otherTutor.token, w.sessionId, slotAt(96)), 404, "not_found");
    expect((await row(w.sessionId))?.startTime).toBe(w.start);
  });

  it("the student until RESCHEDULE_WINDOW_HOURS before the current start; the tutor and admins until the start", async () => {
    const w = await world(72);
    await setStart(w.sessionId, Date.now() + 12 * HOUR - 60_000);
    const closed = await expectProblem(
      await reschedule(w.student.token, w.sessionId, slotAt(48)),
      409,
      "policy_window_closed",
    );
    expect(closed.code).toBe("policy_window_closed");
    const ok = await reschedule(w.tutor.token, w.sessionId, slotAt(48));
    expect(ok.status).toBe(200);
    await setStart(w.sessionId, Date.now() + 12 * HOUR + 5 * 60_000);
    expect((await reschedule(w.student.token, w.sessionId, slotAt(50))).status).toBe(200);
    await setStart(w.sessionId, Date.now() + 10 * 60_000);
    expect((await reschedule(w.tutor.token, w.sessionId, slotAt(52))).status).toBe(200);
    await setStart(w.sessionId, Date.now() - 60_000);
    await expectProblem(await reschedule(w.tutor.token, w.sessionId, slotAt(54)), 409, "policy_window_closed");
    const admin = await createUser("admin");
    await expectProblem(await reschedule(admin.token, w.sessionId, slotAt(54)), 409, "policy_window_closed");
  });
});

describe("reschedule: the new time obeys every booking rule", () => {
  it("outside availability: 409 slot_unavailable", async () => {
    // available 00:00–12:00 UTC only; booked at 02:00 UTC at least two days ahead
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, {
      weekly: Array.from({ length: 7 }, (_, weekday) => ({ weekday, start: "00:00", end: "12:00" })),
    });
    const student = await createUser("student");
    await fund(student, 10);
    const day = Math.ceil((Date.now() + 2 * DAY) / DAY) * DAY;
    const res = await book(student, tutor, subject.id, day + 2 * HOUR, 60);
    expect(res.status).toBe(201);
    const id = (await json<{ id: string }>(res)).id;
    await expectProblem(await reschedule(student.token, id, day + DAY + 15 * HOUR), 409, "slot_unavailable");
    // starts inside, ends past 12:00
    await expectProblem(
      await reschedule(student.token, id, day + DAY + 11 * HOUR + 30 * 60_000),
      409,
      "slot_unavailable",
    );
    expect((await reschedule(student.token, id, day + DAY + 3 * HOUR)).status).toBe(200);
  });

  it("inside the minimum notice or beyond the horizon: 409 slot_unavailable", async () => {
    const w = await world(72);
    await expectProblem(await reschedule(w.tutor.token, w.sessionId, slotAt(0, 30)), 409, "slot_unavailable");
    await expectProblem(await reschedule(w.student.token, w.sessionId, slotAt(400 * 24)), 409, "slot_unavailable");
    expect((await row(w.sessionId))?.startTime).toBe(w.start);
  });

  it("overlap with the tutor's other session or the student's session with another tutor: 409; its own old time is no obstacle", async () => {
    const w = await world(72);
    const other = await createUser("student");
    await fund(other, 10);
    const taken = slotAt(100);
    expect((await book(other, w.tutor, w.subjectId, taken, 60)).status).toBe(201);
    await expectProblem(await reschedule(w.student.token, w.sessionId, taken + 30 * 60_000), 409, "slot_unavailable");
    await expectProblem(await reschedule(w.student.token, w.sessionId, taken - 45 * 60_000), 409, "slot_unavailable");
    expect((await reschedule(w.student.token, w.sessionId, taken + HOUR)).status).toBe(200);

    const tutor2 = await createTutor(w.subjectId);
    const mine = slotAt(120);
    expect((await book(w.student, tutor2, w.subjectId, mine, 60)).status).toBe(201);
    await expectProblem(await reschedule(w.tutor.token, w.sessionId, mine + 15 * 60_000), 409, "slot_unavailable");

    // moving by 30 minutes overlaps only the session's own current time
    const own = (await row(w.sessionId))?.startTime ?? 0;
    const res = await reschedule(w.student.token, w.sessionId, own + 30 * 60_000);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ startTime: own + 30 * 60_000, endTime: own + 90 * 60_000 });
  });

  it("a tutor no longer approved: 409 slot_unavailable", async () => {
    const w = await world(72);
    await env.DB.prepare("UPDATE tutorProfiles SET status = 'suspended' WHERE id = ?")
      .bind(w.tutor.tutorProfileId)
      .run();
    await expectProblem(await reschedule(w.student.token, w.sessionId, slotAt(96)), 409, "slot_unavailable");
  });

  it("not on a 15-minute boundary or an unknown field: 400; not scheduled: 409 conflict", async () => {
    const w = await world(72);
    await expectProblem(await reschedule(w.student.token, w.sessionId, slotAt(96) + 60_000), 400, "validation_failed");
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/reschedule`, {
        token: w.student.token,
        body: { startTime: slotAt(96), endTime: slotAt(98) },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(await reschedule(w.student.token, w.sessionId, "soon"), 400, "validation_failed");
    expect((await call(`/v1/sessions/${w.sessionId}/cancel`, { token: w.student.token, body: {} })).status).toBe(200);
    await expectProblem(await reschedule(w.student.token, w.sessionId, slotAt(96)), 409, "conflict");
  });
});

describe("reschedule: retries and reminders", () => {
  it("Idempotency-Key: the same body replays the first answer and moves nothing twice; another body is 422", async () => {
    const w = await world(72);
    const headers = { "idempotency-key": crypto.randomUUID() };
    const to = slotAt(96);
    const first = await reschedule(w.student.token, w.sessionId, to, headers);
    expect(first.status).toBe(200);
    const firstBody = await json(first);
    const again = await reschedule(w.student.token, w.sessionId, to, headers);
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(firstBody);
    expect(await rescheduleNotes(w.tutor.token)).toHaveLength(1);
    await expectProblem(
      await reschedule(w.student.token, w.sessionId, slotAt(100), headers),
      422,
      "idempotency_conflict",
    );
    expect((await row(w.sessionId))?.startTime).toBe(to);
    // without a key, a repeat of a move that happened answers the session where it is, and notifies nobody
    expect(await json(await reschedule(w.student.token, w.sessionId, to))).toMatchObject({ startTime: to });
    expect(await rescheduleNotes(w.tutor.token)).toHaveLength(1);
  });

  it("reminders follow the new time: one already sent for the old time does not block the new one", async () => {
    const w = await world(72);
    const svc = await jobContext(env, "test");
    const reminders = async () =>
      (
        await env.DB.prepare(
          "SELECT dedupeKey, data FROM notifications WHERE type = 'session_reminder' AND data LIKE ?",
        )
          .bind(`%${w.sessionId}%`)
          .all<{ dedupeKey: string; data: string }>()
      ).results;
    await setStart(w.sessionId, slotAt(20));
    await sendReminders(svc);
    expect(await reminders()).toHaveLength(2);
    expect((await row(w.sessionId))?.reminder24hSentAt).not.toBeNull();
    const to = slotAt(22);
    expect((await reschedule(w.tutor.token, w.sessionId, to)).status).toBe(200);
    expect((await row(w.sessionId))?.reminder24hSentAt).toBeNull();
    await sendReminders(svc);
    const all = await reminders();
    expect(all).toHaveLength(4);
    expect(new Set(all.map((r) => r.dedupeKey)).size).toBe(4);
    expect(all.filter((r) => JSON.parse(r.data).startTime === to)).toHaveLength(2);
  });
});

describe("reschedule: concurrency", () => {
  it("two reschedules of one session at once: it ends at one of the two times, the other request is 409", async () => {
    for (let round = 0; round < 3; round++) {
      const w = await world(72);
      const times = [slotAt(96), slotAt(110)];
      const results = await Promise.all([
        reschedule(w.student.token, w.sessionId, times[0]),
        reschedule(w.tutor.token, w.sessionId, times[1]),
      ]);
      const won = results.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status !== 200);
      if (lost) await expectProblem(lost, 409, "conflict");
      const at = (await row(w.sessionId))?.startTime;
      expect(at).toBe(times[results.indexOf(won[0] as Response)]);
      // only the winner's notification was written
      const notes = [...(await rescheduleNotes(w.student.token)), ...(await rescheduleNotes(w.tutor.token))];
      expect(notes).toHaveLength(1);
      expect(notes[0]?.data.startTime).toBe(at);
    }
  });

  it("a reschedule racing another student's booking of the same free slot: exactly one gets it", async () => {
    for (let round = 0; round < 3; round++) {
      const w = await world(72);
      const other = await createUser("student");
      await fund(other, 10);
      const slot = slotAt(100);
      const [moved, booked] = await Promise.all([
        reschedule(w.student.token, w.sessionId, slot),
        book(other, w.tutor, w.subjectId, slot, 60),
      ]);
      expect([moved.status, booked.status].filter((s) => s === 200 || s === 201)).toHaveLength(1);
      if (moved.status !== 200) await expectProblem(moved, 409, "slot_unavailable");
      if (booked.status !== 201) {
        await expectProblem(booked, 409, "slot_unavailable");
        expect(await balanceOf(other.token)).toBe(10);
      }
      const live = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM sessions WHERE tutorProfileId = ? AND startTime = ? AND status != 'cancelled'",
      )
        .bind(w.tutor.tutorProfileId, slot)
        .first<{ n: number }>();
      expect(live?.n).toBe(1);
    }
  });

  it("two sessions of one tutor rescheduled into the same slot at once: exactly one wins", async () => {
    for (let round = 0; round < 3; round++) {
      const a = await world(72);
      const b = await createUser("student");
      await fund(b, 10);
      const res = await book(b, a.tutor, a.subjectId, slotAt(80), 60);
      const bId = (await json<{ id: string }>(res)).id;
      const slot = slotAt(100, 30);
      const results = await Promise.all([
        reschedule(a.student.token, a.sessionId, slot),
        reschedule(b.token, bId, slot),
      ]);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      const lost = results.find((r) => r.status !== 200);
      if (lost) await expectProblem(lost, 409, "slot_unavailable");
      const live = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM sessions WHERE tutorProfileId = ? AND startTime = ? AND status != 'cancelled'",
      )
        .bind(a.tutor.tutorProfileId, slot)
        .first<{ n: number }>();
      expect(live?.n).toBe(1);
    }
  });
});

describe("cancel: participants only before the start", () => {
  it("after the start the student and the tutor get 409 policy_window_closed; an admin cancels (full refund)", async () => {
    const w = await world(72);
    await setStart(w.sessionId, Date.now() - 60_000);
    for (const token of [w.student.token, w.tutor.token]) {
      await expectProblem(
        await call(`/v1/sessions/${w.sessionId}/cancel`, { token, body: {} }),
        409,
        "policy_window_closed",
      );
    }
    const admin = await createUser("admin");
    const res = await call(`/v1/sessions/${w.sessionId}/cancel`, { token: admin.token, body: {} });
    expect(await json(res)).toMatchObject({ status: "cancelled", cancelledBy: "admin", refunded: true });
    expect(await balanceOf(w.student.token)).toBe(10);
  });
});
