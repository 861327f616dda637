/**
 * Admins acting through the participants' session routes are admin actions too: an admin's
 * cancellation (a full refund) and completion each write one audit row in the same batch as the
 * change; the participants' own cancellations and completions write none, and a repeat writes none.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, env, json } from "../helpers/api";
import { balanceOf, book, createSubject, createTutor, fund, slotAt } from "../sessions/helpers";

async function bookedSession(hoursAhead: number) {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id);
  const student = await createUser("student");
  await fund(student, 10);
  const res = await book(student, tutor, subject.id, slotAt(hoursAhead), 60);
  expect(res.status).toBe(201);
  return { tutor, student, sessionId: (await json<{ id: string }>(res)).id };
}

const rowsOf = async (targetId: string) =>
  (
    await env.DB.prepare("SELECT actorUserId, action, targetType, details FROM adminAuditLog WHERE targetId = ?")
      .bind(targetId)
      .all<{ actorUserId: string; action: string; targetType: string; details: string }>()
  ).results;

describe("audit rows of admins acting on sessions", () => {
  it("an admin's cancellation: one row with the refund; a repeat (409) and a student's own cancel write none", async () => {
    const admin = await createUser("admin");
    const { student, sessionId } = await bookedSession(48);
    const before = await balanceOf(student.token);
    const cancel = () =>
      call(`/v1/sessions/${sessionId}/cancel`, { token: admin.token, body: { reason: "tutor is ill" } });
    expect((await cancel()).status).toBe(200);
    expect(await balanceOf(student.token)).toBe(before + 2);
    expect((await cancel()).status).toBe(409);
    const rows = await rowsOf(sessionId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorUserId: admin.id, action: "session.cancel", targetType: "session" });
    expect(JSON.parse(rows[0]?.details ?? "{}")).toEqual({
      reason: "tutor is ill",
      refundedCredits: 2,
      earnedCredits: 0,
    });

    const own = await bookedSession(48);
    const mine = await call(`/v1/sessions/${own.sessionId}/cancel`, { token: own.student.token, body: {} });
    expect(mine.status).toBe(200);
    expect(await rowsOf(own.sessionId)).toHaveLength(0);
  });

  it("an admin's completion: one row; the tutor's own completion writes none", async () => {
    const admin = await createUser("admin");
    for (const by of ["admin", "tutor"] as const) {
      const { tutor, sessionId } = await bookedSession(48);
      // move it to 10 minutes from now, inside the start window (booking's minimum notice is past)
      const start = Date.now() + 10 * 60_000;
      await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
        .bind(start, start + 3_600_000, sessionId)
        .run();
      expect((await call(`/v1/sessions/${sessionId}/start`, { method: "POST", token: tutor.token })).status).toBe(200);
      const token = by === "admin" ? admin.token : tutor.token;
      const done = await call(`/v1/sessions/${sessionId}/complete`, { method: "POST", token });
      expect(done.status).toBe(200);
      expect((await json<{ status: string }>(done)).status).toBe("completed");
      expect((await call(`/v1/sessions/${sessionId}/complete`, { method: "POST", token })).status).toBe(409);
      const rows = await rowsOf(sessionId);
      if (by === "admin") {
        expect(rows).toMatchObject([{ actorUserId: admin.id, action: "session.complete", targetType: "session" }]);
      } else {
        expect(rows).toHaveLength(0);
      }
    }
  });
});
