/** A session with a recording pipeline: booked, moved to in_progress, and Deepgram callback helpers. */
import { expect } from "vitest";
import { call, createUser, env, eventually, fakeRequests, json, type TestUser } from "../helpers/api";
import { book, createSubject, createTutor, fund, slotAt, type Tutor } from "../sessions/helpers";

export interface RecWorld {
  subject: { id: string; slug: string };
  tutor: Tutor;
  student: TestUser;
  sessionId: string;
}

export async function recWorld(status: "in_progress" | "completed" | "scheduled" = "in_progress"): Promise<RecWorld> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { price: 1 });
  const student = await createUser("student");
  await fund(student, 5);
  const res = await book(student, tutor, subject.id, slotAt(48), 60);
  if (res.status !== 201) throw new Error(`book: ${res.status} ${await res.text()}`);
  const sessionId = (await json<{ id: string }>(res)).id;
  if (status !== "scheduled") {
    await env.DB.prepare("UPDATE sessions SET status = ? WHERE id = ?").bind(status, sessionId).run();
  }
  return { subject, tutor, student, sessionId };
}

export const audio = (marker: string, extra = 0) => new TextEncoder().encode(`AUDIO:${marker}:${"x".repeat(extra)}`);

export async function upload(sessionId: string, token: string | undefined, body: BodyInit, contentType = "audio/webm") {
  return call(`/v1/sessions/${sessionId}/recording`, {
    method: "PUT",
    token,
    rawBody: body,
    headers: { "content-type": contentType },
  });
}

export interface Recording {
  id: string;
  sessionId: string;
  transcriptionStatus: string;
  transcriptionText?: string;
  transcriptionMeta?: { confidence: number; language: string };
  transcriptionError?: string;
  createdAt: number;
  updatedAt: number;
}

export async function recordingOf(sessionId: string, token: string): Promise<Recording | undefined> {
  const res = await call(`/v1/sessions/${sessionId}/recording`, { token });
  return res.status === 200 ? json<Recording>(res) : undefined;
}

export async function waitForStatus(sessionId: string, token: string, status: string, timeoutMs = 10_000) {
  return eventually(async () => {
    const r = await recordingOf(sessionId, token);
    return r?.transcriptionStatus === status ? r : undefined;
  }, timeoutMs);
}

/** The Deepgram request the job sent for the audio carrying `marker`. */
export async function listenRequest(marker: string) {
  return eventually(async () => {
    const reqs = await fakeRequests("/v1/listen", `AUDIO:${marker}:`);
    return reqs.at(-1);
  });
}

/** Callback path (with token), secret and request id of the audio carrying `marker`. */
export async function callbackOf(marker: string) {
  const req = await listenRequest(marker);
  const callbackUrl = new URL(req.query.callback ?? "");
  const secret = (req.query.extra ?? "").replace(/^callback_secret:/, "");
  return { path: `${callbackUrl.pathname}${callbackUrl.search}`, callbackUrl, secret, request: req };
}

/** A Deepgram pre-recorded callback body, as Deepgram posts it. */
export function deepgramResult(opts: {
  requestId: string;
  secret?: string;
  transcript: string;
  confidence?: number;
  language?: string | null;
}) {
  const words = opts.transcript
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => ({
      word: w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ""),
      start: i * 0.5,
      end: i * 0.5 + 0.4,
      confidence: 0.97,
      speaker: i % 2,
      speaker_confidence: 0.8,
      punctuated_word: w,
    }));
  return {
    metadata: {
      transaction_key: "deprecated",
      request_id: opts.requestId,
      sha256: "5324da68ede209a16ac69a38e8cd29cee4d754434a041166cda3a1f5e0b24566",
      created: new Date().toISOString(),
      duration: words.length * 0.5,
      channels: 1,
      models: ["1abfe86b-e047-4eed-858a-35e5625b41ee"],
      model_info: {
        "1abfe86b-e047-4eed-858a-35e5625b41ee": { name: "general-nova-3", version: "2024-12-20.0", arch: "nova-3" },
      },
      ...(opts.secret !== undefined ? { extra: { callback_secret: opts.secret } } : {}),
    },
    results: {
      channels: [
        {
          ...(opts.language === null ? {} : { detected_language: opts.language ?? "en", language_confidence: 0.99 }),
          alternatives: [{ transcript: opts.transcript, confidence: opts.confidence ?? 0.98, words }],
        },
      ],
    },
  };
}

export async function postCallback(path: string, body: unknown) {
  return call(path, { method: "POST", body });
}

export async function webhookRows(recordingId: string) {
  return (
    await env.DB.prepare("SELECT * FROM deepgramWebhooks WHERE sessionRecordingId = ?")
      .bind(recordingId)
      .all<{ requestId: string; eventType: string; payload: string; processedAt: number }>()
  ).results;
}

/** A recording whose audio was sent to Deepgram: its world, row, callback and request id. */
export async function processingRecording() {
  const w = await recWorld();
  const marker = crypto.randomUUID();
  expect((await upload(w.sessionId, w.tutor.token, audio(marker))).status).toBe(202);
  const rec = await waitForStatus(w.sessionId, w.tutor.token, "processing");
  const cb = await callbackOf(marker);
  const requestId = (await env.DB.prepare("SELECT deepgramRequestId FROM sessionRecordings WHERE id = ?")
    .bind(rec.id)
    .first<string>("deepgramRequestId")) as string;
  return { w, rec, cb, requestId, marker };
}

export interface Report {
  id: string;
  sessionId: string;
  summary: string;
  topicsCovered: string[];
  nextSteps: string[];
  status: "draft" | "published";
  version: number;
  editedByTutor: boolean;
  publishedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The session's report as `token` sees it (undefined while 404). */
export async function reportOf(sessionId: string, token: string): Promise<Report | undefined> {
  const res = await call(`/v1/sessions/${sessionId}/report`, { token });
  return res.status === 200 ? json<Report>(res) : undefined;
}

/** A session whose recording went through the pipeline: the model's first draft exists. */
export async function draftReport() {
  const p = await processingRecording();
  const transcript = `Today we solved quadratic equations ${p.marker}. Great work on factoring.`;
  expect(
    (await postCallback(p.cb.path, deepgramResult({ requestId: p.requestId, secret: p.cb.secret, transcript }))).status,
  ).toBe(200);
  const report = await eventually(async () => reportOf(p.w.sessionId, p.w.tutor.token));
  return { ...p, transcript, report };
}

/** Waits until the tutor sees version `version` of the session's report. */
export async function waitForVersion(sessionId: string, token: string, version: number) {
  return eventually(async () => {
    const r = await reportOf(sessionId, token);
    return r && r.version >= version ? r : undefined;
  });
}
