import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { call, createUser, env, eventually, expectProblem, failNext, fakeRequests, json } from "../helpers/api";
import {
  audio,
  callbackOf,
  deepgramResult,
  postCallback,
  processingRecording,
  recordingOf,
  recWorld,
  upload,
  waitForStatus,
  webhookRows,
} from "./helpers";

interface Notification {
  type: string;
  data: { sessionId?: string; reportId?: string; version?: number };
}

const notes = async (token: string, sessionId: string, type: string) =>
  (await json<{ items: Notification[] }>(await call("/v1/notifications", { token }))).items.filter(
    (n) => n.type === type && n.data.sessionId === sessionId,
  );
const reportReady = (token: string, sessionId: string) => notes(token, sessionId, "report_ready");

describe("recording → transcript → report pipeline", () => {
  it("runs end to end with Deepgram and OpenAI fakes", async () => {
    const w = await recWorld();
    const marker = crypto.randomUUID();
    const res = await upload(w.sessionId, w.tutor.token, audio(marker, 1000), "audio/webm");
    expect(res.status).toBe(202);
    const accepted = await json<{ id: string; sessionId: string; transcriptionStatus: string }>(res);
    expect(accepted).toEqual({ id: expect.any(String), sessionId: w.sessionId, transcriptionStatus: "pending" });

    const stored = await env.BUCKET.get(`recordings/${w.sessionId}/${accepted.id}`);
    expect(stored?.httpMetadata?.contentType).toBe("audio/webm");
    expect(await stored?.text()).toBe(new TextDecoder().decode(audio(marker, 1000)));

    const processing = await waitForStatus(w.sessionId, w.tutor.token, "processing");
    expect(processing.id).toBe(accepted.id);

    const cb = await callbackOf(marker);
    const req = cb.request;
    expect(req.headers.authorization).toBe("Token dg_test_fake");
    expect(req.headers["content-type"]).toBe("audio/webm");
    expect(req.query).toMatchObject({
      model: "nova-3",
      smart_format: "true",
      punctuate: "true",
      diarize: "true",
      detect_language: "true",
    });
    expect(cb.callbackUrl.origin + cb.callbackUrl.pathname).toBe("http://api.test/v1/webhooks/deepgram");
    expect(cb.secret.length).toBeGreaterThan(20);
    const claims = decodeJwt(cb.callbackUrl.searchParams.get("token") ?? "");
    expect(claims).toMatchObject({ aud: "deepgram-callback", sub: accepted.id });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(24 * 3600);
    const row = await env.DB.prepare("SELECT deepgramRequestId, callbackSecretHash FROM sessionRecordings WHERE id = ?")
      .bind(accepted.id)
      .first<{ deepgramRequestId: string; callbackSecretHash: string }>();
    expect(row?.deepgramRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(row?.callbackSecretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.callbackSecretHash).not.toContain(cb.secret);

    const transcript = `Today we solved quadratic equations ${marker}. Great work on factoring.`;
    const payload = deepgramResult({
      requestId: row?.deepgramRequestId ?? "",
      secret: cb.secret,
      transcript,
      confidence: 0.93,
      language: "en",
    });
    const hook = await postCallback(cb.path, payload);
    expect(hook.status).toBe(200);
    expect(await json(hook)).toEqual({ received: true, action: "completed" });

    const done = await recordingOf(w.sessionId, w.student.token);
    expect(done).toMatchObject({
      id: accepted.id,
      transcriptionStatus: "completed",
      transcriptionText: transcript,
      transcriptionMeta: { confidence: 0.93, language: "en" },
    });
    expect(done?.transcriptionError).toBeUndefined();

    // the report job called OpenAI with strict structured output and the lesson's context
    const chat = await eventually(async () => (await fakeRequests("/v1/chat/completions", marker)).at(-1));
    expect(chat.headers.authorization).toBe("Bearer sk-test-fake");
    const sent = JSON.parse(chat.body) as {
      model: string;
      messages: { content: string }[];
      response_format: {
        type: string;
        json_schema: { name: string; strict: boolean; schema: Record<string, unknown> };
      };
    };
    expect(sent.model).toBe("gpt-4o-mini");
    expect(sent.response_format.type).toBe("json_schema");
    expect(sent.response_format.json_schema.strict).toBe(true);
    expect(sent.response_format.json_schema.schema).toMatchObject({
      type: "object",
      additionalProperties: false,
      required: expect.arrayContaining(["summary", "topicsCovered", "nextSteps"]),
    });
    const prompt = sent.messages.map((m) => m.content).join("\n");
    expect(prompt).toContain(`Subject ${w.subject.slug}`);
    expect(prompt).toContain("Tess Tutor");
    expect(prompt).toContain(w.student.email.split("@")[0]);
    expect(prompt).toContain(transcript);

    // the model's report is a draft: its tutor sees it (and is told), the student not yet
    const report = await eventually(async () => {
      const r = await call(`/v1/sessions/${w.sessionId}/report`, { token: w.tutor.token });
      return r.status === 200 ? json<Record<string, unknown>>(r) : undefined;
    });
    expect(report).toEqual({
      id: expect.any(String),
      sessionId: w.sessionId,
      studentProfileId: w.student.studentProfileId,
      tutorProfileId: w.tutor.tutorProfileId,
      summary: expect.stringContaining("quadratic"),
      topicsCovered: ["quadratic equations", "factoring"],
      nextSteps: ["practise completing the square"],
      status: "draft",
      version: 1,
      editedByTutor: false,
      publishedAt: null,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    await expectProblem(await call(`/v1/sessions/${w.sessionId}/report`, { token: w.student.token }), 404, "not_found");
    const draftNotes = await eventually(async () => {
      const n = await notes(w.tutor.token, w.sessionId, "report_draft_ready");
      return n.length > 0 ? n : undefined;
    });
    expect(draftNotes).toHaveLength(1);
    expect(draftNotes[0]?.data).toEqual({ sessionId: w.sessionId, reportId: report.id, version: 1 });
    const draftMail = await eventually(async () =>
      (await fakeRequests("/emails", w.tutor.email)).find((m) =>
        m.headers["idempotency-key"]?.startsWith("report_draft_ready:"),
      ),
    );
    expect(draftMail.headers["idempotency-key"]).toBe(`report_draft_ready:${report.id}:1:${w.tutor.id}`);
    expect(await reportReady(w.student.token, w.sessionId)).toHaveLength(0);
    expect(await json(await call("/v1/reports", { token: w.student.token }))).toEqual({ items: [], nextCursor: null });

    // publishing shows it to the student, who alone is told (the tutor no longer gets report_ready)
    const pub = await call(`/v1/sessions/${w.sessionId}/report/publish`, { method: "POST", token: w.tutor.token });
    expect(pub.status).toBe(200);
    expect(await json(pub)).toMatchObject({ id: report.id, status: "published", publishedAt: expect.any(Number) });
    expect((await call(`/v1/sessions/${w.sessionId}/report`, { token: w.student.token })).status).toBe(200);
    const studentNotes = await reportReady(w.student.token, w.sessionId);
    expect(studentNotes).toHaveLength(1);
    expect(studentNotes[0]?.data.reportId).toBe(report.id);
    expect(await reportReady(w.tutor.token, w.sessionId)).toHaveLength(0);
    const reportMail = await eventually(async () =>
      (await fakeRequests("/emails", w.student.email)).find((m) =>
        m.headers["idempotency-key"]?.startsWith("report_ready:"),
      ),
    );
    expect(reportMail.headers["idempotency-key"]).toBe(`report_ready:${report.id}:1:${w.student.id}`);
    expect(JSON.parse(reportMail.body).text).toContain(String(report.summary));
    // a redelivered report job neither calls the model again nor writes a second version
    const calls = (await fakeRequests("/v1/chat/completions", marker)).length;
    const { reportJob } = await import("../../src/modules/recordings/report");
    const { jobContext } = await import("../../src/jobs/context");
    await reportJob(await jobContext(env, "test"), { type: "report.generate", recordingId: accepted.id });
    expect(await fakeRequests("/v1/chat/completions", marker)).toHaveLength(calls);
    expect(await reportReady(w.student.token, w.sessionId)).toHaveLength(1);
    expect(await json(await call(`/v1/sessions/${w.sessionId}/report`, { token: w.tutor.token }))).toMatchObject({
      version: 1,
      status: "published",
    });

    const mine = await json<{ items: { id: string }[]; nextCursor: string | null }>(
      await call("/v1/reports", { token: w.student.token }),
    );
    expect(mine.items.map((i) => i.id)).toEqual([report.id]);
    expect(mine.nextCursor).toBeNull();

    // a replayed callback changes nothing and triggers no second report
    const replay = await postCallback(cb.path, payload);
    expect(replay.status).toBe(200);
    expect(await json(replay)).toEqual({ received: true, action: "ignored" });
    const failedReplay = await postCallback(cb.path, { ...payload, results: undefined, err_msg: "late failure" });
    expect(await json(failedReplay)).toEqual({ received: true, action: "ignored" });
    await new Promise((r) => setTimeout(r, 500));
    expect((await fakeRequests("/v1/chat/completions", marker)).length).toBe(1);
    expect(await recordingOf(w.sessionId, w.tutor.token)).toMatchObject({
      transcriptionStatus: "completed",
      transcriptionText: transcript,
    });
    expect(await reportReady(w.student.token, w.sessionId)).toHaveLength(1);

    // every accepted call is logged, payload and event type included
    const logged = await webhookRows(accepted.id);
    expect(logged).toHaveLength(3);
    expect(logged.map((l) => l.eventType).sort()).toEqual([
      "transcription_complete",
      "transcription_complete",
      "transcription_failed",
    ]);
    const admin = await createUser("admin");
    const byRec = await json<{ items: { requestId: string; payload: string }[] }>(
      await call(`/v1/admin/webhooks/deepgram?recordingId=${accepted.id}`, { token: admin.token }),
    );
    expect(byRec.items).toHaveLength(3);
    expect(JSON.parse(byRec.items[0]?.payload ?? "{}")).toHaveProperty("metadata");
    const byReq = await json<{ items: unknown[] }>(
      await call(`/v1/admin/webhooks/deepgram?requestId=${row?.deepgramRequestId}`, { token: admin.token }),
    );
    expect(byReq.items).toHaveLength(3);
    await expectProblem(await call("/v1/admin/webhooks/deepgram", { token: admin.token }), 400, "validation_failed");
  });

  it("a Deepgram 4xx fails the recording without retrying; an admin retry restarts it", async () => {
    const w = await recWorld("completed");
    const marker = crypto.randomUUID();
    await failNext("/v1/listen", 400, {
      match: `AUDIO:${marker}:`,
      body: { err_code: "Bad Request", err_msg: "Bad Request: failed to process audio: corrupt or unsupported data" },
    });
    const res = await upload(w.sessionId, w.tutor.token, audio(marker), "audio/mpeg");
    expect(res.status).toBe(202);
    const failed = await waitForStatus(w.sessionId, w.tutor.token, "failed");
    expect(failed.transcriptionError).toContain("HTTP 400");
    expect(failed.transcriptionError).toContain("corrupt or unsupported data");
    expect((await fakeRequests("/v1/listen", `AUDIO:${marker}:`)).length).toBe(1);

    const admin = await createUser("admin");
    const list = await json<{ items: { id: string }[] }>(
      await call("/v1/admin/recordings?status=failed&limit=100", { token: admin.token }),
    );
    expect(list.items.map((i) => i.id)).toContain(failed.id);
    await expectProblem(
      await call("/v1/admin/recordings?status=nope", { token: admin.token }),
      400,
      "validation_failed",
    );
    await expectProblem(await call("/v1/admin/recordings?status=failed", { token: w.tutor.token }), 403, "forbidden");

    const retry = await call(`/v1/admin/recordings/${failed.id}/retry`, { method: "POST", token: admin.token });
    expect(retry.status).toBe(202);
    expect(await json(retry)).toEqual({ id: failed.id, action: "transcription" });
    const again = await waitForStatus(w.sessionId, w.tutor.token, "processing");
    expect(again.transcriptionError).toBeUndefined();
    expect((await fakeRequests("/v1/listen", `AUDIO:${marker}:`)).length).toBe(2);

    await expectProblem(
      await call(`/v1/admin/recordings/${failed.id}/retry`, { method: "POST", token: admin.token }),
      409,
      "conflict",
    );
    await expectProblem(
      await call("/v1/admin/recordings/rec_missing/retry", { method: "POST", token: admin.token }),
      404,
      "not_found",
    );
  });

  it("a Deepgram 5xx is retried by the queue", async () => {
    const w = await recWorld();
    const marker = crypto.randomUUID();
    await failNext("/v1/listen", 503, { match: `AUDIO:${marker}:` });
    expect((await upload(w.sessionId, w.tutor.token, audio(marker))).status).toBe(202);
    await waitForStatus(w.sessionId, w.tutor.token, "processing", 25_000);
    expect((await fakeRequests("/v1/listen", `AUDIO:${marker}:`)).length).toBe(2);
  });

  it("an error callback fails the recording", async () => {
    const { w, rec, cb, requestId } = await processingRecording();
    const res = await postCallback(cb.path, {
      metadata: { request_id: requestId, extra: { callback_secret: cb.secret } },
      err_code: "INTERNAL_SERVER_ERROR",
      err_msg: "The audio could not be transcoded.",
    });
    expect(await json(res)).toEqual({ received: true, action: "failed" });
    const failed = await recordingOf(w.sessionId, w.student.token);
    expect(failed?.transcriptionStatus).toBe("failed");
    expect(failed?.transcriptionError).toContain("could not be transcoded");
    expect((await webhookRows(rec.id)).map((r) => r.eventType)).toEqual(["transcription_failed"]);
  });

  it("a refused report is recorded on the recording and can be retried", async () => {
    const { w, rec, cb, requestId, marker } = await processingRecording();
    await failNext("/v1/chat/completions", 200, {
      match: marker,
      body: {
        id: "chatcmpl-refused",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o-mini",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: null, refusal: "I can't help with that." },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
      },
    });
    const transcript = `We talked about ${marker}.`;
    const hook = await postCallback(cb.path, deepgramResult({ requestId, secret: cb.secret, transcript }));
    expect(hook.status).toBe(200);
    const failed = await eventually(async () => {
      const r = await recordingOf(w.sessionId, w.tutor.token);
      return r?.transcriptionError ? r : undefined;
    });
    expect(failed.transcriptionStatus).toBe("completed");
    expect(failed.transcriptionError).toContain("refused");
    await expectProblem(await call(`/v1/sessions/${w.sessionId}/report`, { token: w.student.token }), 404, "not_found");

    const admin = await createUser("admin");
    const retry = await call(`/v1/admin/recordings/${rec.id}/retry`, { method: "POST", token: admin.token });
    expect(await json(retry)).toEqual({ id: rec.id, action: "report" });
    await eventually(async () => {
      const r = await call(`/v1/sessions/${w.sessionId}/report`, { token: w.tutor.token });
      return r.status === 200 ? true : undefined;
    });
    expect((await recordingOf(w.sessionId, w.tutor.token))?.transcriptionError).toBeUndefined();
  });

  it("a truncated model answer (finish_reason length) is a failure", async () => {
    const { w, cb, requestId, marker } = await processingRecording();
    await failNext("/v1/chat/completions", 200, {
      match: marker,
      body: {
        id: "chatcmpl-length",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o-mini",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: '{"summary": "We', refusal: null },
            logprobs: null,
            finish_reason: "length",
          },
        ],
      },
    });
    await postCallback(cb.path, deepgramResult({ requestId, secret: cb.secret, transcript: `Notes ${marker}` }));
    const failed = await eventually(async () => {
      const r = await recordingOf(w.sessionId, w.tutor.token);
      return r?.transcriptionError ? r : undefined;
    });
    expect(failed.transcriptionError).toContain("cut off");
  });
});
