/**
 * GET /v1/admin/sessions/:id: the back office's view of one lesson — the session, its student and
 * tutor (user ids and names), and the state of its latest recording and of its report, so the page
 * asks for a transcript or a report only when there is one. Admin-only; 404 for an unknown id.
 */
import { describe, expect, it } from "vitest";
import { call, env, expectProblem, json } from "../helpers/api";
import { audio, recWorld, upload } from "../recordings/helpers";
import { callers, expectAdminOnly, expectIndex } from "./back-office-helpers";

interface AdminSession {
  id: string;
  status: string;
  creditsCost: number;
  student: { userId: string; displayName: string } | null;
  tutor: { userId: string; displayName: string } | null;
  recording: { id: string; transcriptionStatus: string; createdAt: number; updatedAt: number } | null;
  report: { id: string; status: string; version: number; publishedAt: number | null } | null;
}

describe("GET /v1/admin/sessions/:id", () => {
  it("is the session with its people, and no recording or report before there is one", async () => {
    const who = await callers();
    const w = await recWorld("scheduled");
    const path = `/v1/admin/sessions/${w.sessionId}`;
    await expectAdminOnly(path, who);
    // a participant's token is not enough either: this is the admin's view
    await expectProblem(await call(path, { token: w.student.token }), 403, "forbidden");
    const body = await json<AdminSession>(await call(path, { token: who.admin.token }));
    const own = await json<Record<string, unknown>>(
      await call(`/v1/sessions/${w.sessionId}`, { token: w.student.token }),
    );
    expect(body).toMatchObject(own);
    expect(body.student).toEqual({ userId: w.student.id, displayName: expect.any(String) });
    const publicTutor = await json<{ displayName: string }>(await call(`/v1/tutors/${w.tutor.tutorProfileId}`));
    expect(body.tutor).toEqual({ userId: w.tutor.id, displayName: publicTutor.displayName });
    expect(body.recording).toBeNull();
    expect(body.report).toBeNull();
  });

  it("shows the upload that replaced the first one, and the report once one is written", async () => {
    const { admin } = await callers();
    const w = await recWorld("in_progress");
    expect((await upload(w.sessionId, w.tutor.token, audio("detail-1"))).status).toBe(202);
    const second = await upload(w.sessionId, w.tutor.token, audio("detail-2"));
    expect(second.status).toBe(202);
    const latest = (await json<{ id: string }>(second)).id;
    const path = `/v1/admin/sessions/${w.sessionId}`;
    const withRecording = await json<AdminSession>(await call(path, { token: admin.token }));
    expect(withRecording.recording).toMatchObject({ id: latest });
    await env.DB.prepare(
      `INSERT INTO lessonReports (id, sessionId, studentProfileId, tutorProfileId, summary, topicsCovered, nextSteps, rawTranscript, status, createdAt, updatedAt)
SELECT 'rpt_detail', id, studentProfileId, tutorProfileId, 'Summary', '[]', '[]', 'text', 'draft', 1, 1 FROM sessions WHERE id = ?`,
    )
      .bind(w.sessionId)
      .run();
    const withReport = await json<AdminSession>(await call(path, { token: admin.token }));
    expect(withReport.report).toEqual({ id: "rpt_detail", status: "draft", version: 1, publishedAt: null });
    await expectIndex(
      /from "sessionRecordings" where "sessionRecordings"\."sessionId" = \?/i,
      "sessionRecordings_by_session",
    );
    await expectIndex(/from "lessonReports" where "lessonReports"\."sessionId" = \?/i, "lessonReports_by_session");
  });

  it("is 404 for an unknown session and 400 for an id that cannot be one", async () => {
    const { admin } = await callers();
    await expectProblem(await call("/v1/admin/sessions/ses_nope", { token: admin.token }), 404, "not_found");
    await expectProblem(
      await call(`/v1/admin/sessions/${"x".repeat(300)}`, { token: admin.token }),
      400,
      "validation_failed",
    );
  });
});
