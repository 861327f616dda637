import { describe, expect, it } from "vitest";
import { call, createUser, env, eventually, expectProblem, fakeRequests, json } from "../helpers/api";
import { balanceOf, book, createSubject, createTutor, fund, slotAt } from "./helpers";

describe("booking", () => {
  it("books a session, debits ceil(price × minutes / 60) atomically, notifies both and creates the room", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 3 });
    const student = await createUser("student");
    await fund(student, 10);
    const start = slotAt(48);
    const res = await book(student, tutor, subject.id, start, 45);
    expect(res.status).toBe(201);
    const session = await json<Record<string, unknown>>(res);
    expect(session).toMatchObject({
      tutorProfileId: tutor.tutorProfileId,
      studentProfileId: student.studentProfileId,
      subjectId: subject.id,
      startTime: start,
      endTime: start + 45 * 60_000,
      status: "scheduled",
      creditsCost: 3, // ceil(3 × 45 / 60) = ceil(2.25)
      videoSessionUrl: null,
    });
    expect(session).not.toHaveProperty("agoraHostPassPhrase");
    expect(await balanceOf(student.token)).toBe(7);
    const ledger = await json<{ items: { source: string; sessionId: string }[] }>(
      await call("/v1/credits/ledger", { token: student.token }),
    );
    expect(ledger.items[0]).toMatchObject({ source: "session_booking", sessionId: session.id });
    for (const u of [student, tutor]) {
      const n = await json<{ items: { type: string; data: { sessionId: string } }[] }>(
        await call("/v1/notifications", { token: u.token }),
      );
      expect(n.items.filter((i) => i.type === "session_scheduled" && i.data.sessionId === session.id)).toHaveLength(1);
    }
    const room = await eventually(async () => {
      const s = await json<{ videoSessionUrl: string | null; agoraChannelName: string | null }>(
        await call(`/v1/sessions/${session.id}`, { token: student.token }),
      );
      return s.videoSessionUrl ? s : undefined;
    });
    expect(room.videoSessionUrl).toMatch(/^https:\/\/meet\.test\//);
    const [agora] = await fakeRequests("/v1/channel", String(session.id));
    expect(agora?.headers["x-api-key"]).toBe("agora_test_key");
    expect(agora?.headers["x-project-id"]).toBe("agora_project");
    expect(JSON.parse(agora?.body ?? "{}")).toMatchObject({ enable_pstn: false });
    const mails = await eventually(async () => {
      const m = await fakeRequests("/emails", student.email);
      return m.length > 0 ? m : undefined;
    });
    expect(mails[0]?.headers["idempotency-key"]).toBe(`session_scheduled:${session.id}:${student.id}`);
  });

  it("validates input (400), availability and notice (409), credits (402) and the subject (400)", async () => {
    const subject = await createSubject();
    const other = await createSubject();
    const tutor = await createTutor(subject.id, { weekly: [{ weekday: 1, start: "09:00", end: "12:00" }] });
    const student = await createUser("student");
    await fund(student, 1);
    const mondayNine = (() => {
      const d = new Date(Date.now() + 8 * 86_400_000);
      while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 9);
    })();
    await expectProblem(await book(student, tutor, subject.id, mondayNine + 60_000), 400, "validation_failed");
    await expectProblem(await book(student, tutor, subject.id, mondayNine, 20), 400, "validation_failed");
    await expectProblem(await book(student, tutor, subject.id, mondayNine, 50), 400, "validation_failed");
    await expectProblem(await book(student, tutor, subject.id, mondayNine, 195), 400, "validation_failed");
    await expectProblem(await book(student, tutor, other.id, mondayNine), 400, "validation_failed");
    await expectProblem(
      await call("/v1/sessions", {
        token: student.token,
        body: {
          tutorProfileId: tutor.tutorProfileId,
          subjectId: subject.id,
          startTime: mondayNine,
          durationMinutes: 60,
          creditsCost: 0,
        },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(await book(student, tutor, subject.id, mondayNine + 150 * 60_000, 60), 409, "slot_unavailable");
    await expectProblem(await book(student, tutor, subject.id, mondayNine - 86_400_000), 409, "slot_unavailable");
    await expectProblem(await book(student, tutor, subject.id, slotAt(-2)), 409, "slot_unavailable");
    await expectProblem(await book(student, tutor, subject.id, mondayNine, 60), 402, "insufficient_credits");
    expect(await balanceOf(student.token)).toBe(1);
    await expectProblem(
      await call("/v1/sessions", {
        token: student.token,
        body: { tutorProfileId: "tut_missing", subjectId: subject.id, startTime: mondayNine, durationMinutes: 60 },
      }),
      404,
      "not_found",
    );
  });

  it("20 concurrent bookings by one student with balance 5 → exactly 5 sessions, balance 0", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 5);
    const base = slotAt(72);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => book(student, tutor, subject.id, base + i * 3_600_000, 60)),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(5);
    for (const r of results.filter((x) => x.status !== 201)) expect(r.status).toBe(402);
    expect(await balanceOf(student.token)).toBe(0);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE studentProfileId = ?")
      .bind(student.studentProfileId)
      .first<{ n: number }>();
    expect(count?.n).toBe(5);
  });

  it("two students racing for overlapping slots: one booking, no credits lost", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const a = await createUser("student");
    const b = await createUser("student");
    await fund(a, 3);
    await fund(b, 3);
    const start = slotAt(96);
    const [ra, rb] = await Promise.all([
      book(a, tutor, subject.id, start, 60),
      book(b, tutor, subject.id, start + 30 * 60_000, 60),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    const loser = ra.status === 409 ? ra : rb;
    await expectProblem(loser, 409, "slot_unavailable");
    expect((await balanceOf(a.token)) + (await balanceOf(b.token))).toBe(5);
  });

  it("a student cannot double-book themselves across tutors", async () => {
    const subject = await createSubject();
    const t1 = await createTutor(subject.id, { price: 1 });
    const t2 = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 5);
    const start = slotAt(120);
    expect((await book(student, t1, subject.id, start)).status).toBe(201);
    await expectProblem(await book(student, t2, subject.id, start + 15 * 60_000), 409, "slot_unavailable");
    expect(await balanceOf(student.token)).toBe(4);
  });

  it("honours Idempotency-Key: replay, 422 on a different body, one booking under concurrency", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 5);
    const key = crypto.randomUUID();
    const start = slotAt(150);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => book(student, tutor, subject.id, start, 60, { "idempotency-key": key })),
    );
    const bodies = await Promise.all(results.filter((r) => r.status === 201).map((r) => json<{ id: string }>(r)));
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    const replay = await book(student, tutor, subject.id, start, 60, { "idempotency-key": key });
    expect(replay.status).toBe(201);
    expect((await json<{ id: string }>(replay)).id).toBe(bodies[0]?.id);
    await expectProblem(
      await book(student, tutor, subject.id, start + 3_600_000, 60, { "idempotency-key": key }),
      422,
      "idempotency_conflict",
    );
    expect(await balanceOf(student.token)).toBe(4);
  });

  it("a retry whose first answer was lost (no stored response) answers the booking again, without a second debit", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 5);
    const key = crypto.randomUUID();
    const start = slotAt(100);
    const first = await book(student, tutor, subject.id, start, 60, { "idempotency-key": key });
    expect(first.status).toBe(201);
    // what a 5xx after the ledger's commit (released key) or the 24-hour expiry leaves behind
    await env.DB.prepare("DELETE FROM idempotencyRecords WHERE userId = ?").bind(student.id).run();
    const retry = await book(student, tutor, subject.id, start, 60, { "idempotency-key": key });
    expect(retry.status, await retry.clone().text()).toBe(201);
    expect((await json<{ id: string }>(retry)).id).toBe((await json<{ id: string }>(first)).id);
    expect(await balanceOf(student.token)).toBe(4);
  });

  it("authorization: anonymous 401, tutor role 403", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    await expectProblem(await call("/v1/sessions", { body: {} }), 401, "unauthorized");
    await expectProblem(await book(tutor, tutor, subject.id, slotAt(30)), 403, "forbidden");
  });
});
