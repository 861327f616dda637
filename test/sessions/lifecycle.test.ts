import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { jobContext } from "../../src/jobs/context";
import { sendReminders } from "../../src/modules/sessions/reminders";
import { runScheduled } from "../../src/scheduled";
import { call, createUser, env, eventually, expectProblem, failNext, json, type TestUser } from "../helpers/api";
import { balanceOf, book, createSubject, createTutor, DAY, fund, HOUR, slotAt, type Tutor } from "./helpers";

interface World {
  subjectId: string;
  tutor: Tutor;
  student: TestUser;
  sessionId: string;
  start: number;
}

async function world(hoursAhead = 72, credits = 10): Promise<World> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 2 });
  const student = await createUser("student");
  await fund(student, credits);
  const start = slotAt(hoursAhead);
  const res = await book(student, tutor, subject.id, start, 60);
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  return { subjectId: subject.id, tutor, student, sessionId: (await json<{ id: string }>(res)).id, start };
}

const setStart = (id: string, startTime: number) =>
  env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
    .bind(startTime, startTime + HOUR, id)
    .run();

describe("cancellation policy", () => {
  it("student cancelling early is refunded in full", async () => {
    const w = await world(72);
    const res = await call(`/v1/sessions/${w.sessionId}/cancel`, { token: w.student.token, body: { reason: "sick" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      status: "cancelled",
      cancelledBy: "student",
      cancellationReason: "sick",
      refunded: true,
      cancelledAt: expect.any(Number),
    });
    expect(await balanceOf(w.student.token)).toBe(10);
    const n = await json<{ items: { type: string }[] }>(await call("/v1/notifications", { token: w.tutor.token }));
    expect(n.items.map((i) => i.type)).toContain("session_cancelled");
  });

  it("student cancelling inside the window gets no refund", async () => {
    const w = await world(72);
    await setStart(w.sessionId, slotAt(5));
    const res = await call(`/v1/sessions/${w.sessionId}/cancel`, { token: w.student.token, body: {} });
    expect(await json(res)).toMatchObject({ status: "cancelled", refunded: false });
    expect(await balanceOf(w.student.token)).toBe(8);
  });

  it("tutor and admin cancellations refund in full, even late", async () => {
    for (const who of ["tutor", "admin"] as const) {
      const w = await world(72);
      await setStart(w.sessionId, slotAt(3));
      const token = who === "tutor" ? w.tutor.token : (await createUser("admin")).token;
      const res = await call(`/v1/sessions/${w.sessionId}/cancel`, { token, body: {} });
      expect(await json(res)).toMatchObject({ status: "cancelled", cancelledBy: who, refunded: true });
      expect(await balanceOf(w.student.token)).toBe(10);
    }
  });

  it("double and concurrent cancels refund once; the others are 409", async () => {
    const w = await world(72);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(`/v1/sessions/${w.sessionId}/cancel`, { token: i % 2 ? w.tutor.token : w.student.token, body: {} }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) await expectProblem(r, 409, "conflict");
    expect(await balanceOf(w.student.token)).toBe(10);
    const refunds = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM creditsLedger WHERE sessionId = ? AND source = 'session_refund'",
    )
      .bind(w.sessionId)
      .first<{ n: number }>();
    expect(refunds?.n).toBe(1);
  });
});

describe("lifecycle and join", () => {
  it("start from 15 minutes before, complete, illegal transitions 409", async () => {
    const w = await world(72);
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/start`, { method: "POST", token: w.tutor.token }),
      409,
      "conflict",
    );
    await setStart(w.sessionId, Date.now() + 10 * 60_000);
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/start`, { method: "POST", token: w.student.token }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/complete`, { method: "POST", token: w.tutor.token }),
      409,
      "conflict",
    );
    const started = await call(`/v1/sessions/${w.sessionId}/start`, { method: "POST", token: w.tutor.token });
    expect(await json(started)).toMatchObject({ status: "in_progress" });
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/start`, { method: "POST", token: w.tutor.token }),
      409,
      "conflict",
    );
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/cancel`, { token: w.student.token, body: {} }),
      409,
      "conflict",
    );
    await expectProblem(
      await call(`/v1/sessions/${w.sessionId}/complete`, { method: "POST", token: w.student.token }),
      403,
      "forbidden",
    );
    const done = await call(`/v1/sessions/${w.sessionId}/complete`, { method: "POST", token: w.tutor.token });
    expect(await json(done)).toMatchObject({ status: "completed" });
    await expectProblem(await call(`/v1/sessions/${w.sessionId}/join`, { token: w.student.token }), 409, "conflict");
  });

  it("join: 503 room_not_ready until the room exists, then host for the tutor and viewer for the student", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 2);
    await failNext("/v1/channel", 503, { times: 1 });
    const res = await book(student, tutor, subject.id, slotAt(200));
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    // the first room attempt fails; the booking stands and join says the room is not ready
    await expectProblem(await call(`/v1/sessions/${id}/join`, { token: student.token }), 503, "room_not_ready");
    const { createRoomJob } = await import("../../src/modules/sessions/rooms");
    await eventually(async () => {
      try {
        await createRoomJob(await jobContext(env, "test"), { type: "video.create_room", sessionId: id });
        return true;
      } catch {
        return undefined;
      }
    });
    const host = await json<{ url: string; role: string }>(
      await call(`/v1/sessions/${id}/join`, { token: tutor.token }),
    );
    const viewer = await json<{ url: string; role: string }>(
      await call(`/v1/sessions/${id}/join`, { token: student.token }),
    );
    expect(host.role).toBe("host");
    expect(viewer.role).toBe("viewer");
    expect(host.url).not.toBe(viewer.url);
    const row = await env.DB.prepare("SELECT agoraHostPassPhrase, videoSessionUrl FROM sessions WHERE id = ?")
      .bind(id)
      .first<{ agoraHostPassPhrase: string; videoSessionUrl: string }>();
    expect(host.url).toBe(`https://meet.test/${row?.agoraHostPassPhrase}`);
    expect(viewer.url).toBe(row?.videoSessionUrl);
    const view = await call(`/v1/sessions/${id}`, { token: tutor.token });
    expect(JSON.stringify(await json(view))).not.toContain(row?.agoraHostPassPhrase ?? "none");
    await expectProblem(
      await call(`/v1/sessions/${id}/join`, { token: (await createUser("admin")).token }),
      403,
      "forbidden",
    );
  });
});

describe("authorization matrix", () => {
  it("anonymous 401, other student/tutor 404, admin allowed where API.md says", async () => {
    const w = await world(72);
    const otherStudent = await createUser("student");
    const subject2 = await createSubject();
    const otherTutor = await createTutor(subject2.id);
    const admin = await createUser("admin");
    const routes: [string, string, unknown?][] = [
      ["GET", `/v1/sessions/${w.sessionId}`],
      ["POST", `/v1/sessions/${w.sessionId}/cancel`, {}],
      ["POST", `/v1/sessions/${w.sessionId}/start`],
      ["POST", `/v1/sessions/${w.sessionId}/complete`],
      ["GET", `/v1/sessions/${w.sessionId}/join`],
    ];
    for (const [method, path, body] of routes) {
      await expectProblem(await call(path, { method, body }), 401, "unauthorized");
      await expectProblem(await call(path, { method, body, token: otherStudent.token }), 404, "not_found");
      await expectProblem(await call(path, { method, body, token: otherTutor.token }), 404, "not_found");
    }
    expect((await call(`/v1/sessions/${w.sessionId}`, { token: admin.token })).status).toBe(200);
    await expectProblem(await call(`/v1/sessions/does-not-exist`, { token: admin.token }), 404, "not_found");
    await expectProblem(await call("/v1/admin/sessions", { token: w.student.token }), 403, "forbidden");
    await expectProblem(await call("/v1/admin/sessions", { token: w.tutor.token }), 403, "forbidden");
    await expectProblem(await call("/v1/admin/sessions"), 401, "unauthorized");
    // a token claiming admin for a user who is no longer admin in the database
    await env.DB.prepare("UPDATE users SET context = 'student' WHERE id = ?").bind(admin.id).run();
    await expectProblem(await call("/v1/admin/sessions", { token: admin.token }), 403, "forbidden");
  });
});

describe("lists", () => {
  it("the caller's sessions as student or tutor, filters and cursor pages; admin by status", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 1 });
    const student = await createUser("student");
    await fund(student, 10);
    const base = slotAt(300);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await json<{ id: string }>(await book(student, tutor, subject.id, base + i * DAY))).id);
    await call(`/v1/sessions/${ids[4]}/cancel`, { token: student.token, body: {} });

    const desc1 = await json<{ items: { id: string }[]; nextCursor: string }>(
      await call("/v1/sessions?limit=2", { token: student.token }),
    );
    expect(desc1.items.map((s) => s.id)).toEqual([ids[4], ids[3]]);
    const desc2 = await json<{ items: { id: string }[] }>(
      await call(`/v1/sessions?limit=2&cursor=${desc1.nextCursor}`, { token: student.token }),
    );
    expect(desc2.items.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    const asc = await json<{ items: { id: string }[] }>(
      await call(`/v1/sessions?from=${base + DAY}&to=${base + 3 * DAY + 1}`, { token: student.token }),
    );
    expect(asc.items.map((s) => s.id)).toEqual([ids[1], ids[2], ids[3]]);
    const cancelled = await json<{ items: { id: string }[] }>(
      await call("/v1/sessions?status=cancelled", { token: student.token }),
    );
    expect(cancelled.items.map((s) => s.id)).toEqual([ids[4]]);
    const asTutor = await json<{ items: unknown[] }>(await call("/v1/sessions?as=tutor", { token: tutor.token }));
    expect(asTutor.items).toHaveLength(5);
    const studentAsTutor = await json<{ items: unknown[] }>(
      await call("/v1/sessions?as=tutor", { token: student.token }),
    );
    expect(studentAsTutor.items).toHaveLength(0);
    await expectProblem(await call("/v1/sessions?status=bogus", { token: student.token }), 400, "validation_failed");
    await expectProblem(await call("/v1/sessions?limit=101", { token: student.token }), 400, "validation_failed");

    const admin = await createUser("admin");
    const byStatus = await json<{ items: { id: string; status: string }[] }>(
      await call(`/v1/admin/sessions?status=cancelled&from=${base}&to=${base + 10 * DAY}`, { token: admin.token }),
    );
    expect(byStatus.items.map((s) => s.id)).toContain(ids[4]);
    expect(byStatus.items.every((s) => s.status === "cancelled")).toBe(true);
    const users = await json<{ items: { id: string; context: string }[] }>(
      await call("/v1/admin/users?context=admin&limit=100", { token: admin.token }),
    );
    expect(users.items.map((u) => u.id)).toContain(admin.id);
    await expectProblem(await call("/v1/admin/users?context=root", { token: admin.token }), 400, "validation_failed");
  });
});

describe("notifications", () => {
  it("lists, counts unread, marks one and all read; 404 for someone else's", async () => {
    const w = await world(72);
    const count = async (t: string) =>
      (await json<{ count: number }>(await call("/v1/notifications/unread-count", { token: t }))).count;
    expect(await count(w.student.token)).toBe(1);
    const list = await json<{ items: { id: string; read: boolean; userId: string }[] }>(
      await call("/v1/notifications?unread=true", { token: w.student.token }),
    );
    const first = list.items[0];
    expect(first).toMatchObject({ read: false, userId: w.student.id });
    await expectProblem(
      await call(`/v1/notifications/${first?.id}/read`, { method: "POST", token: w.tutor.token }),
      404,
      "not_found",
    );
    expect((await call(`/v1/notifications/${first?.id}/read`, { method: "POST", token: w.student.token })).status).toBe(
      204,
    );
    expect(await count(w.student.token)).toBe(0);
    expect(await count(w.tutor.token)).toBe(1);
    expect((await call("/v1/notifications/read-all", { method: "POST", token: w.tutor.token })).status).toBe(204);
    expect(await count(w.tutor.token)).toBe(0);
    const unread = await json<{ items: unknown[] }>(
      await call("/v1/notifications?unread=true", { token: w.tutor.token }),
    );
    expect(unread.items).toHaveLength(0);
    await expectProblem(await call("/v1/notifications"), 401, "unauthorized");
  });
});

describe("reminders", () => {
  it("sends the 24 h and 1 h reminders exactly once each, even when cron runs twice or late", async () => {
    const w = await world(72);
    const svc = await jobContext(env, "test");
    const reminders = async () =>
      (
        await env.DB.prepare(
          "SELECT type, dedupeKey FROM notifications WHERE type = 'session_reminder' AND data LIKE ?",
        )
          .bind(`%${w.sessionId}%`)
          .all()
      ).results;
    await sendReminders(svc);
    expect(await reminders()).toHaveLength(0);
    await setStart(w.sessionId, Date.now() + 20 * HOUR);
    await Promise.all([sendReminders(svc), sendReminders(svc)]);
    await runScheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, {
      waitUntil() {},
      passThroughOnException() {},
    } as unknown as ExecutionContext);
    expect(await reminders()).toHaveLength(2);
    await setStart(w.sessionId, Date.now() + 30 * 60_000);
    await sendReminders(svc);
    await sendReminders(svc);
    const all = await reminders();
    expect(all).toHaveLength(4);
    expect(new Set(all.map((r) => r.dedupeKey)).size).toBe(4);
  });
});
