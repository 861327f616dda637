import { describe, expect, it } from "vitest";
import { jobContext } from "../../src/jobs/context";
import {
  GIVE_UP_MS,
  STALE_PENDING_MS,
  STALE_PROCESSING_MS,
  sweepStaleRecordings,
} from "../../src/modules/recordings/sweep";
import { env } from "../helpers/api";
import { audio, recWorld, upload, waitForStatus } from "./helpers";

const HOUR = 3_600_000;

async function age(id: string, fields: { status: string; updatedAgo: number; createdAgo: number }) {
  const now = Date.now();
  await env.DB.prepare(
    "UPDATE sessionRecordings SET transcriptionStatus = ?, updatedAt = ?, createdAt = ? WHERE id = ?",
  )
    .bind(fields.status, now - fields.updatedAgo, now - fields.createdAgo, id)
    .run();
}

const statusOf = async (id: string) =>
  (await env.DB.prepare("SELECT transcriptionStatus AS s, transcriptionError AS e FROM sessionRecordings WHERE id = ?")
    .bind(id)
    .first<{
      s: string;
      e: string | null;
    }>()) ?? undefined;

describe("stale recording sweep", () => {
  it("retries a stale processing recording (Deepgram never called back) and it completes the pipeline again", async () => {
    const w = await recWorld();
    const res = await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID()));
    const { id } = (await res.json()) as { id: string };
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
    await age(id, { status: "processing", updatedAgo: STALE_PROCESSING_MS + 1000, createdAgo: 3 * HOUR });
    const svc = await jobContext(env, "test");
    const [a, b] = await Promise.all([sweepStaleRecordings(svc), sweepStaleRecordings(svc)]);
    expect(a.retried + b.retried).toBe(1);
    // the retried request goes to Deepgram again and reaches `processing` (a new request id)
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
  });

  it("fails recordings stuck for longer than the give-up age, with a reason, once", async () => {
    const w = await recWorld();
    const res = await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID()));
    const { id } = (await res.json()) as { id: string };
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
    await age(id, { status: "processing", updatedAgo: STALE_PROCESSING_MS + 1000, createdAgo: GIVE_UP_MS + 1000 });
    const svc = await jobContext(env, "test");
    await sweepStaleRecordings(svc);
    expect(await statusOf(id)).toEqual({ s: "failed", e: "Deepgram never called back" });
    await age(id, { status: "pending", updatedAgo: STALE_PENDING_MS + 1000, createdAgo: GIVE_UP_MS + 1000 });
    await sweepStaleRecordings(svc);
    expect(await statusOf(id)).toMatchObject({ s: "failed", e: expect.stringContaining("could not be requested") });
  });

  it("leaves fresh recordings alone", async () => {
    const w = await recWorld();
    const res = await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID()));
    const { id } = (await res.json()) as { id: string };
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
    const before = await env.DB.prepare("SELECT updatedAt FROM sessionRecordings WHERE id = ?")
      .bind(id)
      .first<{ updatedAt: number }>();
    await sweepStaleRecordings(await jobContext(env, "test"));
    const after = await env.DB.prepare("SELECT updatedAt FROM sessionRecordings WHERE id = ?")
      .bind(id)
      .first<{ updatedAt: number }>();
    expect(after?.updatedAt).toBe(before?.updatedAt);
  });
});

describe("dead-lettered transcription", () => {
  it("fails the recording with a reason when its request exhausted the queue's retries", async () => {
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const { handleQueue } = await import("../../src/queues/consumer");
    const w = await recWorld();
    const { id } = (await (await upload(w.sessionId, w.tutor.token, audio(crypto.randomUUID()))).json()) as {
      id: string;
    };
    await waitForStatus(w.sessionId, w.tutor.token, "processing");
    await env.DB.prepare("UPDATE sessionRecordings SET transcriptionStatus = 'pending' WHERE id = ?").bind(id).run();
    const batch = createMessageBatch("tutorloop-jobs-dlq", [
      { id: `dlq-${id}`, timestamp: Date.now(), attempts: 6, body: { type: "transcription.request", recordingId: id } },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`dlq-${id}`]);
    expect(await statusOf(id)).toEqual({ s: "failed", e: "Deepgram was unavailable (gave up after 6 attempts)" });
  });
});
