import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { wav } from "../tools/offline/client.ts";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  MAX_RECORDING_BYTES,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  poll,
  type Student,
  type Subject,
  slotIn,
  start,
  type Tokens,
  type Tutor,
} from "./helpers.ts";

interface Recording {
  id: string;
  sessionId: string;
  transcriptionStatus: string;
  transcriptionText?: string;
  transcriptionMeta?: { confidence: number; language: string };
  transcriptionError?: string;
}
interface Report {
  id: string;
  sessionId: string;
  studentProfileId: string;
  tutorProfileId: string;
  summary: string;
  topicsCovered: string[];
  nextSteps: string[];
  status: "draft" | "published";
}
interface Delivery {
  kind: string;
  id: string;
  target: string;
  status?: number;
  body?: string;
}

const upload = (sessionId: string, token: string, body: Uint8Array, type = "audio/wav") =>
  c.call<{ id: string; sessionId: string; transcriptionStatus: string }>(`/v1/sessions/${sessionId}/recording`, {
    method: "PUT",
    token,
    raw: body,
    headers: { "content-type": type },
  });

const recordingStatus = (sessionId: string, token: string, status: string) =>
  poll(`recording ${status}`, 30_000, async () => {
    const r = await c.call<Recording>(`/v1/sessions/${sessionId}/recording`, { token });
    return r.status === 200 && r.body.transcriptionStatus === status ? r.body : undefined;
  });

describe("recordings → Deepgram → OpenAI reports", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("rec"));
    subject = await newSubject(admin);
  });

  /** A started session (booked at the next quarter) with its own tutor and student. */
  async function lesson(): Promise<{ t: Tutor; s: Student; sessionId: string; studentProfileId: string }> {
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const r = await book(s, t, subject.id, nextQuarter(), 60);
    assert.equal(r.status, 201, r.text);
    await start(t, r.body.id);
    return { t, s, sessionId: r.body.id, studentProfileId: r.body.studentProfileId };
  }

  it("a WAV upload is transcribed through the callback and turned into a report", async () => {
    const { t, s, sessionId, studentProfileId } = await lesson();
    const res = await upload(sessionId, t.token, wav(1));
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.transcriptionStatus, "pending");

    const done = await recordingStatus(sessionId, s.token, "completed");
    assert.equal(done.id, res.body.id);
    assert.match(done.transcriptionText ?? "", /quadratic equations/);
    assert.deepEqual(done.transcriptionMeta, { confidence: 0.97, language: "en" });

    // the model's report is a draft for the tutor; the student sees it once it is published
    const report = await poll("the report draft", 30_000, async () => {
      const r = await c.call<Report>(`/v1/sessions/${sessionId}/report`, { token: t.token });
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(report.status, "draft");
    assert.equal(report.sessionId, sessionId);
    assert.equal(report.studentProfileId, studentProfileId);
    assert.equal(report.tutorProfileId, t.profileId);
    assert.ok(report.summary.length > 0);
    assert.ok(report.topicsCovered.length > 0 && report.topicsCovered.every((x) => typeof x === "string"));
    assert.ok(report.nextSteps.length > 0);
    await expectProblem(await c.call(`/v1/sessions/${sessionId}/report`, { token: s.token }), 404, "not_found");
    assert.equal((await c.call(`/v1/sessions/${sessionId}/report`, { token: admin.accessToken })).status, 200);
    const published = await c.ok<Report>(`/v1/sessions/${sessionId}/report/publish`, {
      method: "POST",
      token: t.token,
    });
    assert.equal(published.status, "published");
    assert.equal((await c.call(`/v1/sessions/${sessionId}/report`, { token: s.token })).status, 200);
    const mine = await c.ok<{ items: Report[] }>("/v1/reports", { token: s.token });
    assert.deepEqual(
      mine.items.map((x) => x.id),
      [report.id],
    );
    const notes = await poll("report_ready", 10_000, async () => {
      const n = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: s.token });
      return n.items.some((x) => x.type === "report_ready") ? n : undefined;
    });
    assert.ok(notes);

    // the callback the emulator delivered is logged; replaying it changes nothing
    const log = await c.ok<{ items: { requestId: string; eventType: string }[] }>(
      `/v1/admin/webhooks/deepgram?recordingId=${done.id}`,
      { token: admin.accessToken },
    );
    assert.deepEqual(
      log.items.map((x) => x.eventType),
      ["transcription_complete"],
    );
    const requestId = log.items[0]?.requestId ?? "";
    const deliveries = await c.emulator<Delivery[]>("/__control/deliveries");
    const sent = deliveries.find((d) => d.kind === "deepgram" && d.id === requestId);
    assert.ok(sent?.body, "the emulator delivered the callback");
    const target = new URL(sent.target);
    const replay = await c.call(`${target.pathname}${target.search}`, {
      raw: sent.body,
      headers: { "content-type": "application/json" },
    });
    assert.equal(replay.status, 200, replay.text);
    assert.deepEqual(replay.body, { received: true, action: "ignored" });
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.equal((await c.ok<{ items: Report[] }>("/v1/reports", { token: s.token })).items.length, 1);

    // a forged callback: no token or a bad one is 401 and writes nothing
    await expectProblem(
      await c.call("/v1/webhooks/deepgram", { raw: sent.body, headers: { "content-type": "application/json" } }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await c.call("/v1/webhooks/deepgram?token=abc.def.ghi", {
        raw: sent.body,
        headers: { "content-type": "application/json" },
      }),
      401,
      "unauthorized",
    );
    const after = await c.ok<{ items: unknown[] }>(`/v1/admin/webhooks/deepgram?recordingId=${done.id}`, {
      token: admin.accessToken,
    });
    assert.equal(after.items.length, 2);

    // complete the lesson
    assert.equal(
      (await c.ok<{ status: string }>(`/v1/sessions/${sessionId}/complete`, { method: "POST", token: t.token })).status,
      "completed",
    );
  });

  it("a second upload replaces the first and restarts the pipeline", async () => {
    const { t, s, sessionId } = await lesson();
    const first = await upload(sessionId, t.token, wav(1));
    assert.equal(first.status, 202);
    await recordingStatus(sessionId, s.token, "completed");
    const second = await upload(sessionId, t.token, wav(2), "audio/x-wav");
    assert.equal(second.status, 202);
    const done = await recordingStatus(sessionId, s.token, "completed");
    assert.equal(done.id, second.body.id);
    assert.notEqual(done.id, first.body.id);
  });

  it("audio Deepgram cannot decode fails the recording with its reason; an admin can retry", async () => {
    const { t, s, sessionId } = await lesson();
    const junk = new TextEncoder().encode("this is not audio at all, just text");
    const res = await upload(sessionId, t.token, junk, "audio/wav");
    assert.equal(res.status, 202);
    const failed = await recordingStatus(sessionId, s.token, "failed");
    assert.match(failed.transcriptionError ?? "", /corrupt or unsupported data/);
    const list = await c.ok<{ items: { id: string }[] }>("/v1/admin/recordings?status=failed&limit=100", {
      token: admin.accessToken,
    });
    assert.ok(list.items.some((x) => x.id === failed.id));
    const retry = await c.call(`/v1/admin/recordings/${failed.id}/retry`, { method: "POST", token: admin.accessToken });
    assert.equal(retry.status, 202, retry.text);
    assert.deepEqual(retry.body, { id: failed.id, action: "transcription" });
    const again = await recordingStatus(sessionId, s.token, "failed");
    assert.equal(again.id, failed.id);
    await expectProblem(
      await c.call("/v1/admin/recordings/rec_missing/retry", { method: "POST", token: admin.accessToken }),
      404,
      "not_found",
    );
  });

  it("refuses wrong types (415), oversize (413), empty (400), wrong people and wrong states", async () => {
    const { t, s, sessionId } = await lesson();
    await expectProblem(await upload(sessionId, t.token, wav(1), "text/plain"), 415, "unsupported_media_type");
    await expectProblem(await upload(sessionId, t.token, wav(1), "application/json"), 415, "unsupported_media_type");
    await expectProblem(
      await upload(sessionId, t.token, new Uint8Array(MAX_RECORDING_BYTES + 1)),
      413,
      "payload_too_large",
    );
    await expectProblem(await upload(sessionId, t.token, new Uint8Array(0)), 400, "validation_failed");
    await expectProblem(await upload(sessionId, s.token, wav(1)), 403, "forbidden");
    const stranger = await newStudent();
    await expectProblem(await upload(sessionId, stranger.token, wav(1)), 404, "not_found");
    await expectProblem(await c.call(`/v1/sessions/${sessionId}/recording`, { token: s.token }), 404, "not_found");
    await expectProblem(await c.call(`/v1/sessions/${sessionId}/report`, { token: s.token }), 404, "not_found");
    // a scheduled session has no recording yet
    const later = await book(s, t, subject.id, slotIn(30), 60);
    assert.equal(later.status, 201);
    await expectProblem(await upload(later.body.id, t.token, wav(1)), 409, "conflict");
  });
});
