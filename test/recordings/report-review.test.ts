/** Tutor review of lesson reports: drafts, edits, versions, regeneration, publication, the generation cap. */
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { reportJob } from "../../src/modules/recordings/report";
import { call, createUser, env, eventually, expectProblem, fakeRequests, json } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { createTutor } from "../sessions/helpers";
import {
  audio,
  callbackOf,
  deepgramResult,
  draftReport,
  postCallback,
  processingRecording,
  type Report,
  reportOf,
  upload,
  waitForStatus,
  waitForVersion,
} from "./helpers";

interface Version {
  version: number;
  summary: string;
  topicsCovered: string[];
  source: string;
  instructions: string | null;
  authorUserId: string | null;
}
interface Note {
  type: string;
  data: { sessionId?: string; version?: number };
}

const path = (sessionId: string, tail = "") => `/v1/sessions/${sessionId}/report${tail}`;
const patch = (sessionId: string, token: string | undefined, body: unknown) =>
  call(path(sessionId), { method: "PATCH", token, body });
const publish = (sessionId: string, token: string | undefined) =>
  call(path(sessionId, "/publish"), { method: "POST", token });
const regenerate = (sessionId: string, token: string | undefined, body?: unknown) =>
  call(path(sessionId, "/regenerate"), { method: "POST", token, ...(body !== undefined ? { body } : {}) });
const versions = async (sessionId: string, token: string) =>
  (await json<{ items: Version[] }>(await call(path(sessionId, "/versions"), { token }))).items;
const notes = async (token: string, sessionId: string, type: string) =>
  (await json<{ items: Note[] }>(await call("/v1/notifications", { token }))).items.filter(
    (n) => n.type === type && n.data.sessionId === sessionId,
  );
const row = (sessionId: string) =>
  env.DB.prepare("SELECT generations, generationId, autoPublishAt FROM lessonReports WHERE sessionId = ?")
    .bind(sessionId)
    .first<{ generations: number; generationId: string | null; autoPublishAt: number | null }>();

describe("report review", () => {
  it("who sees and reviews a draft: the student 404 until published, strangers 404, anonymous 401", async () => {
    const { w, report } = await draftReport();
    const otherStudent = await createUser("student");
    const otherTutor = await createTutor(w.subject.id);
    const admin = await createUser("admin");
    expect(report).toMatchObject({ status: "draft", version: 1, editedByTutor: false, publishedAt: null });
    expect((await reportOf(w.sessionId, admin.token))?.id).toBe(report.id);
    const routes = [
      () => call(path(w.sessionId)),
      () => patch(w.sessionId, undefined, { summary: "x" }),
      () => publish(w.sessionId, undefined),
      () => regenerate(w.sessionId, undefined),
      () => call(path(w.sessionId, "/versions")),
    ];
    for (const r of routes) await expectProblem(await r(), 401, "unauthorized");
    for (const token of [otherStudent.token, otherTutor.token, w.student.token]) {
      await expectProblem(await call(path(w.sessionId), { token }), 404, "not_found");
      await expectProblem(await patch(w.sessionId, token, { summary: "x" }), 404, "not_found");
      await expectProblem(await publish(w.sessionId, token), 404, "not_found");
      await expectProblem(await regenerate(w.sessionId, token), 404, "not_found");
      await expectProblem(await call(path(w.sessionId, "/versions"), { token }), 404, "not_found");
    }
    await expectProblem(await publish("ses_missing", w.tutor.token), 404, "not_found");
    expect(await json(await call("/v1/reports", { token: w.student.token }))).toEqual({ items: [], nextCursor: null });

    // an admin publishes; now the student (only) reads it, still cannot review it
    const pub = await publish(w.sessionId, admin.token);
    expect(pub.status).toBe(200);
    const published = await json<Report>(pub);
    expect(published).toMatchObject({ status: "published", version: 1, publishedAt: expect.any(Number) });
    expect(await reportOf(w.sessionId, w.student.token)).toEqual(published);
    const mine = await json<{ items: Report[] }>(await call("/v1/reports", { token: w.student.token }));
    expect(mine.items.map((r) => r.id)).toEqual([report.id]);
    for (const token of [otherStudent.token, otherTutor.token]) {
      await expectProblem(await call(path(w.sessionId), { token }), 404, "not_found");
    }
    await expectProblem(await patch(w.sessionId, w.student.token, { summary: "x" }), 404, "not_found");
    await expectProblem(await call(path(w.sessionId, "/versions"), { token: w.student.token }), 404, "not_found");
    expect(await notes(w.student.token, w.sessionId, "report_ready")).toHaveLength(1);
    expect(await notes(w.tutor.token, w.sessionId, "report_ready")).toHaveLength(0);
    // published: no more edits, publications or regenerations
    await expectProblem(await patch(w.sessionId, w.tutor.token, { summary: "late" }), 409, "conflict");
    await expectProblem(await publish(w.sessionId, w.tutor.token), 409, "conflict");
    await expectProblem(await regenerate(w.sessionId, w.tutor.token), 409, "conflict");
    expect(await notes(w.student.token, w.sessionId, "report_ready")).toHaveLength(1);
  });

  it("edits are versions: the tutor's and an admin's, each recorded with its author; bad bodies are 400", async () => {
    const { w, report } = await draftReport();
    const admin = await createUser("admin");
    const res = await patch(w.sessionId, w.tutor.token, { summary: "  We factored quadratics together.  " });
    expect(res.status).toBe(200);
    const edited = await json<Report>(res);
    expect(edited).toMatchObject({
      id: report.id,
      status: "draft",
      version: 2,
      editedByTutor: true,
      summary: "We factored quadratics together.",
      topicsCovered: report.topicsCovered,
      nextSteps: report.nextSteps,
    });
    const byAdmin = await json<Report>(await patch(w.sessionId, admin.token, { nextSteps: ["Do exercise 4"] }));
    expect(byAdmin).toMatchObject({ version: 3, nextSteps: ["Do exercise 4"], summary: edited.summary });
    const list = await versions(w.sessionId, w.tutor.token);
    expect(list.map((v) => [v.version, v.source, v.authorUserId])).toEqual([
      [3, "admin", admin.id],
      [2, "tutor", w.tutor.id],
      [1, "model", null],
    ]);
    expect(list[2]?.summary).toBe(report.summary);
    expect(await versions(w.sessionId, admin.token)).toHaveLength(3);
    const paged = await json<{ items: Version[]; nextCursor: string }>(
      await call(path(w.sessionId, "/versions?limit=2"), { token: w.tutor.token }),
    );
    expect(paged.items.map((v) => v.version)).toEqual([3, 2]);
    const rest = await json<{ items: Version[]; nextCursor: null }>(
      await call(path(w.sessionId, `/versions?limit=2&cursor=${paged.nextCursor}`), { token: w.tutor.token }),
    );
    expect(rest).toMatchObject({ items: [{ version: 1 }], nextCursor: null });

    for (const body of [
      {},
      { summary: "" },
      { summary: "x".repeat(4001) },
      { topicsCovered: "algebra" },
      { topicsCovered: [""] },
      { nextSteps: Array.from({ length: 31 }, () => "a") },
      { summary: "ok", status: "published" },
    ]) {
      await expectProblem(await patch(w.sessionId, w.tutor.token, body), 400, "validation_failed");
    }
    const notJson = await call(path(w.sessionId), {
      method: "PATCH",
      token: w.tutor.token,
      rawBody: "summary=x",
      headers: { "content-type": "application/json" },
    });
    await expectProblem(notJson, 400, "validation_failed");
    await expectProblem(
      await regenerate(w.sessionId, w.tutor.token, { instructions: "x".repeat(501) }),
      400,
      "validation_failed",
    );
    await expectProblem(await regenerate(w.sessionId, w.tutor.token, { instructions: 5 }), 400, "validation_failed");
    await expectProblem(await regenerate(w.sessionId, w.tutor.token, { prompt: "x" }), 400, "validation_failed");
    await expectProblem(
      await call(path(w.sessionId, "/versions?cursor=bad"), { token: w.tutor.token }),
      400,
      "validation_failed",
    );
    expect((await reportOf(w.sessionId, w.tutor.token))?.version).toBe(3);
  });

  it("regenerating keeps every version, and the instructions reach the prompt", async () => {
    const { w, report, marker, transcript } = await draftReport();
    await patch(w.sessionId, w.tutor.token, { summary: "My own words." });
    const instructions = "Mention the homework on page 12 and keep it encouraging.";
    const res = await regenerate(w.sessionId, w.tutor.token, { instructions });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ id: report.id, generations: 2, maxGenerations: 5 });
    const fresh = await waitForVersion(w.sessionId, w.tutor.token, 3);
    expect(fresh).toMatchObject({ status: "draft", version: 3, editedByTutor: false });
    expect(fresh.summary).toBe(
      `We practised solving quadratic equations by factoring and with the formula. Revised as the tutor asked: ${instructions}`,
    );

    const chats = await fakeRequests("/v1/chat/completions", marker);
    expect(chats).toHaveLength(2);
    const messages = (JSON.parse(chats[1]?.body ?? "{}") as { messages: { role: string; content: string }[] }).messages;
    expect(messages.at(-1)).toEqual({
      role: "user",
      content: `<tutor_instructions>\n${instructions}\n</tutor_instructions>`,
    });
    expect(messages[0]?.content).toContain("only what the transcript says");
    expect(messages[1]?.content).toContain(transcript);

    const list = await versions(w.sessionId, w.tutor.token);
    expect(list.map((v) => [v.version, v.source, v.instructions])).toEqual([
      [3, "model", instructions],
      [2, "tutor", null],
      [1, "model", null],
    ]);
    expect(list[1]?.summary).toBe("My own words.");
    // each model draft is announced to the tutor
    await eventually(async () =>
      (await notes(w.tutor.token, w.sessionId, "report_draft_ready")).length === 2 ? 1 : undefined,
    );
    expect(await notes(w.student.token, w.sessionId, "report_ready")).toHaveLength(0);

    // without instructions, the plain prompt (and answer) again
    expect((await regenerate(w.sessionId, w.tutor.token)).status).toBe(202);
    const plain = await waitForVersion(w.sessionId, w.tutor.token, 4);
    expect(plain.summary).not.toContain("Revised as the tutor asked");
    expect((await versions(w.sessionId, w.tutor.token))[0]).toMatchObject({ version: 4, instructions: null });
  });

  it("a running generation blocks edits, publication and another regeneration; a stale one does not", async () => {
    const { w } = await draftReport();
    const now = Date.now();
    await env.DB.prepare(
      "UPDATE lessonReports SET generationId = 'gen_live', generationStartedAt = ? WHERE sessionId = ?",
    )
      .bind(now, w.sessionId)
      .run();
    await expectProblem(await patch(w.sessionId, w.tutor.token, { summary: "x" }), 409, "conflict");
    await expectProblem(await publish(w.sessionId, w.tutor.token), 409, "conflict");
    await expectProblem(await regenerate(w.sessionId, w.tutor.token), 409, "conflict");
    await env.DB.prepare("UPDATE lessonReports SET generationStartedAt = ? WHERE sessionId = ?")
      .bind(now - 16 * 60_000, w.sessionId)
      .run();
    expect((await patch(w.sessionId, w.tutor.token, { summary: "Edited over a dead job." })).status).toBe(200);
    expect((await row(w.sessionId))?.generationId).toBeNull();
    // the dead job's late answer is dropped
    const { regenerateJob } = await import("../../src/modules/recordings/report");
    const report = (await reportOf(w.sessionId, w.tutor.token)) as Report;
    await regenerateJob(await jobContext(env, "test"), {
      type: "report.regenerate",
      reportId: report.id,
      generationId: "gen_live",
    });
    expect(await reportOf(w.sessionId, w.tutor.token)).toMatchObject({
      version: 2,
      summary: "Edited over a dead job.",
    });
  });

  it("at most 5 generations per session: parallel regenerations take one slot at a time, then 409", async () => {
    const { w, marker, rec } = await draftReport();
    await env.DB.prepare("UPDATE lessonReports SET generations = 3 WHERE sessionId = ?").bind(w.sessionId).run();
    const first = await Promise.all(Array.from({ length: 4 }, () => regenerate(w.sessionId, w.tutor.token)));
    expect(first.map((r) => r.status).sort()).toEqual([202, 409, 409, 409]);
    await waitForVersion(w.sessionId, w.tutor.token, 2);
    const second = await Promise.all(Array.from({ length: 4 }, () => regenerate(w.sessionId, w.tutor.token)));
    expect(second.map((r) => r.status).sort()).toEqual([202, 409, 409, 409]);
    await waitForVersion(w.sessionId, w.tutor.token, 3);
    expect((await row(w.sessionId))?.generations).toBe(5);
    const capped = await expectProblem(await regenerate(w.sessionId, w.tutor.token), 409, "conflict");
    expect(String(capped.detail)).toMatch(/5 report generations/);
    const admin = await createUser("admin");
    await expectProblem(await regenerate(w.sessionId, admin.token), 409, "conflict");
    const calls = (await fakeRequests("/v1/chat/completions", marker)).length;
    expect(calls).toBe(3);
    // an admin retry of the report, and an upload's report job, are held to the cap too
    await env.DB.prepare("UPDATE sessionRecordings SET transcriptionError = 'Report generation failed: x' WHERE id = ?")
      .bind(rec.id)
      .run();
    await expectProblem(
      await call(`/v1/admin/recordings/${rec.id}/retry`, { method: "POST", token: admin.token }),
      409,
      "conflict",
    );
    await reportJob(await jobContext(env, "test"), { type: "report.generate", recordingId: rec.id });
    expect(await fakeRequests("/v1/chat/completions", marker)).toHaveLength(calls);
    const recRow = await env.DB.prepare("SELECT transcriptionError FROM sessionRecordings WHERE id = ?")
      .bind(rec.id)
      .first<string>("transcriptionError");
    expect(recRow).toMatch(/5 report generations/);
    expect((await row(w.sessionId))?.generations).toBe(5);
  });

  it("a new upload's report is a new draft version of the same report; a published report or a spent cap refuses uploads", async () => {
    const { w, report } = await draftReport();
    const marker = crypto.randomUUID();
    expect((await upload(w.sessionId, w.tutor.token, audio(marker))).status).toBe(202);
    const cb = await callbackOf(marker);
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
    const dg = await env.DB.prepare("SELECT deepgramRequestId FROM sessionRecordings WHERE sessionId = ?")
      .bind(w.sessionId)
      .first<string>("deepgramRequestId");
    await postCallback(
      cb.path,
      deepgramResult({ requestId: dg ?? "", secret: cb.secret, transcript: `Fractions ${marker}` }),
    );
    const next = await waitForVersion(w.sessionId, w.tutor.token, 2);
    expect(next).toMatchObject({ id: report.id, status: "draft", publishedAt: null });
    await expectProblem(await call(path(w.sessionId), { token: w.student.token }), 404, "not_found");
    expect((await row(w.sessionId))?.generations).toBe(2);
    expect((await publish(w.sessionId, w.tutor.token)).status).toBe(200);
    expect((await notes(w.student.token, w.sessionId, "report_ready")).map((n) => n.data.version)).toEqual([2]);
    // published is final: a new recording would take the student's report away again
    const refused = await expectProblem(await upload(w.sessionId, w.tutor.token, audio("late")), 409, "conflict");
    expect(String(refused.detail)).toMatch(/published/);
    expect(await reportOf(w.sessionId, w.student.token)).toMatchObject({ status: "published", version: 2 });

    // a draft whose generations are spent: the transcription would be paid for a report never written
    const spent = await draftReport();
    await env.DB.prepare("UPDATE lessonReports SET generations = 5 WHERE sessionId = ?").bind(spent.w.sessionId).run();
    await expectProblem(await upload(spent.w.sessionId, spent.w.tutor.token, audio("spent")), 409, "conflict");
  });

  it("REPORT_REVIEW_HOURS=0 publishes the model's report at once", async () => {
    const { w, rec, marker } = await processingRecording();
    // the transcript arrives without the callback, so only this job (with the setting) writes the report
    await env.DB.prepare(
      "UPDATE sessionRecordings SET transcriptionStatus = 'completed', transcriptionText = ?, updatedAt = ? WHERE id = ?",
    )
      .bind(`We revised fractions ${marker}.`, Date.now(), rec.id)
      .run();
    const svc = await jobContext({ ...env, REPORT_REVIEW_HOURS: "0" } as Env, "test");
    await reportJob(svc, { type: "report.generate", recordingId: rec.id });
    const report = await reportOf(w.sessionId, w.student.token);
    expect(report).toMatchObject({ status: "published", version: 1, publishedAt: expect.any(Number) });
    expect((await row(w.sessionId))?.autoPublishAt).toBeNull();
    expect(await notes(w.student.token, w.sessionId, "report_ready")).toHaveLength(1);
    expect(await notes(w.tutor.token, w.sessionId, "report_draft_ready")).toHaveLength(0);
    expect(await eventTypesOf(report?.id as string)).toEqual(["report.published"]);
    await eventually(async () =>
      (await fakeRequests("/emails", w.student.email)).find((m) =>
        m.headers["idempotency-key"]?.startsWith("report_ready:"),
      ),
    );
  });
});
