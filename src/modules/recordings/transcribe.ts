/**
 * The `transcription.request` job: sends a pending recording's audio (read from R2) to Deepgram with
 * a callback URL carrying a signed token and a per-request secret (stored as a SHA-256 hash), then
 * marks the recording `processing`. Deepgram refusing the audio (4xx) fails the recording for good;
 * 5xx and network errors are ProviderError(transient) and the queue retries.
 */
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { sessionRecordings } from "../../db/schema";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { DeepgramRejected, deepgramConfigured, requestTranscription } from "../../providers/deepgram";
import type { QueueMessage } from "../../queues/messages";
import { signCallbackToken } from "./callback-token";

export async function markFailed(svc: ServiceContext, recordingId: string, reason: string) {
  await svc.db
    .update(sessionRecordings)
    .set({ transcriptionStatus: "failed", transcriptionError: reason, updatedAt: svc.clock.now() })
    .where(and(eq(sessionRecordings.id, recordingId), eq(sessionRecordings.transcriptionStatus, "pending")));
}

export async function transcriptionJob(
  svc: ServiceContext,
  m: Extract<QueueMessage, { type: "transcription.request" }>,
) {
  const rec = await svc.db.query.sessionRecordings.findFirst({ where: eq(sessionRecordings.id, m.recordingId) });
  // replaced, or already sent (a redelivered message): nothing to do
  if (rec?.transcriptionStatus !== "pending") return;
  if (!deepgramConfigured(svc.config)) {
    await markFailed(svc, rec.id, "Transcription is not configured (DEEPGRAM_API_KEY is unset)");
    return;
  }
  const object = await svc.env.BUCKET.get(rec.s3Key);
  if (!object) {
    await markFailed(svc, rec.id, "The recording file is missing from storage");
    return;
  }
  const secret = randomToken(24);
  await svc.db
    .update(sessionRecordings)
    .set({ callbackSecretHash: await sha256Hex(secret), updatedAt: svc.clock.now() })
    .where(and(eq(sessionRecordings.id, rec.id), eq(sessionRecordings.transcriptionStatus, "pending")));
  const token = await signCallbackToken(svc.config, rec.id);
  const callbackUrl = `${svc.config.PUBLIC_API_URL.replace(/\/+$/, "")}/v1/webhooks/deepgram?token=${encodeURIComponent(token)}`;
  let requestId: string;
  try {
    ({ requestId } = await requestTranscription(svc.config, {
      audio: object.body,
      contentType: object.httpMetadata?.contentType ?? "application/octet-stream",
      callbackUrl,
      callbackSecret: secret,
    }));
  } catch (err) {
    if (err instanceof DeepgramRejected) {
      await markFailed(svc, rec.id, err.message);
      return;
    }
    throw err;
  }
  await svc.db
    .update(sessionRecordings)
    .set({ deepgramRequestId: requestId, transcriptionStatus: "processing", updatedAt: svc.clock.now() })
    .where(and(eq(sessionRecordings.id, rec.id), eq(sessionRecordings.transcriptionStatus, "pending")));
}
