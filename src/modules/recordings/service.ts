/**
 * Session recordings and lesson reports.
 *
 * One recording per session: a new upload replaces the previous one (its row and R2 object are
 * deleted once the new audio is stored) and restarts the pipeline. Late callbacks or jobs of a
 * replaced recording find no row and change nothing. Each upload starts a paid transcription and
 * report, so a session gets at most MAX_RECORDING_UPLOADS: the count travels from row to row
 * (`uploadCount`), and the insert that takes the next number is conditional on it, so parallel
 * uploads cannot pass the limit.
 *
 * Uploads stream to R2 without holding the file in memory. With `Content-Length`, the body is piped
 * through a byte counter into a `FixedLengthStream` of that length (a body longer than declared or
 * than MAX_RECORDING_BYTES aborts the write: 413; a shorter one: 400). Without it (chunked
 * transfer), the body goes to an R2 multipart upload in 8 MiB parts, counted as it arrives, so at
 * most one part is in memory and an oversized stream is aborted (413) as soon as it passes the limit.
 */
import { and, desc, eq } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { keysetAfter } from "../../db/keyset";
import { lessonReports, MAX_REPORT_GENERATIONS, sessionRecordings } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { badRequest, conflict, DomainError, forbidden, notFound } from "../../lib/errors";
import { deepgramConfigured } from "../../providers/deepgram";
import { enqueue } from "../../queues/enqueue";
import { auditEntry, insertAudit } from "../audit/store";
import { accessSession } from "../sessions/access";

export type RecordingRow = typeof sessionRecordings.$inferSelect;

export function recordingView(r: RecordingRow) {
  return {
    id: r.id,
    sessionId: r.sessionId,
    transcriptionStatus: r.transcriptionStatus,
    ...(r.transcriptionText !== null ? { transcriptionText: r.transcriptionText } : {}),
    ...(r.transcriptionMeta ? { transcriptionMeta: r.transcriptionMeta } : {}),
    ...(r.transcriptionError !== null ? { transcriptionError: r.transcriptionError } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

const AUDIO_TYPE = /^audio\/[\w.+-]+\s*(;.*)?$/i;

class TooLarge extends Error {}

/** Streams `body` into R2 under `key`; throws 413 past `limit` bytes, 400 when the length lies. */
export async function storeAudio(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  declaredLength: number,
  limit: number,
  contentType: string,
): Promise<void> {
  let seen = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limit) {
        controller.error(new TooLarge());
        return;
      }
      controller.enqueue(chunk);
    },
  });
  const fixed = new FixedLengthStream(declaredLength);
  const piping = body.pipeThrough(counter).pipeTo(fixed.writable);
  const putting = bucket.put(key, fixed.readable, { httpMetadata: { contentType } });
  // both settle on their own; mark them handled so a failed upload leaves no unhandled rejection
  piping.catch(() => undefined);
  putting.catch(() => undefined);
  try {
    await piping;
    await putting;
  } catch (err) {
    await Promise.allSettled([piping, putting]);
    await bucket.delete(key).catch(() => undefined);
    if (seen > limit || err instanceof TooLarge) {
      throw new DomainError("payload_too_large", `Recordings are limited to ${limit} bytes`);
    }
    if (seen !== declaredLength) {
      throw badRequest("The body length does not match Content-Length", [
        { path: "content-length", message: `declared ${declaredLength}, received ${seen}` },
      ]);
    }
    throw err;
  }
}

/** R2 multipart parts: every part but the last has this size (R2 wants equal parts, ≥ 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * Streams a body of unknown length into R2 through a multipart upload; returns the byte count.
 * Throws 413 past `limit` and 400 for an empty body, aborting the upload in both cases.
 */
export async function storeAudioChunked(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  limit: number,
  contentType: string,
  partBytes = PART_BYTES,
): Promise<number> {
  const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType } });
  const parts: R2UploadedPart[] = [];
  const reader = body.getReader();
  let part = new Uint8Array(partBytes);
  let filled = 0;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw new TooLarge();
      for (let offset = 0; offset < value.byteLength; ) {
        const n = Math.min(partBytes - filled, value.byteLength - offset);
        part.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === partBytes) {
          parts.push(await upload.uploadPart(parts.length + 1, part));
          part = new Uint8Array(partBytes);
          filled = 0;
        }
      }
    }
    if (total === 0) throw badRequest("The recording is empty", [{ path: "body", message: "Empty body" }]);
    if (filled > 0) parts.push(await upload.uploadPart(parts.length + 1, part.subarray(0, filled)));
    await upload.complete(parts);
    return total;
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    await upload.abort().catch(() => undefined);
    if (err instanceof TooLarge) throw new DomainError("payload_too_large", `Recordings are limited to ${limit} bytes`);
    throw err;
  }
}

/** Uploads a session may have (each one a paid transcription and report). */
export const MAX_RECORDING_UPLOADS = 3;

const uploadsUsedUp = () =>
  conflict(`This session already had ${MAX_RECORDING_UPLOADS} recording uploads, the most it may have`);

/**
 * Records upload `id` as the session's recording, replacing the previous row, in one D1 batch (one
 * transaction): the insert takes the next upload number only while it is below the limit, and the
 * delete runs only if that insert happened. Returns the replaced rows' audio keys, or null when the
 * limit was reached (nothing changed).
 */
async function claimUpload(svc: ServiceContext, sessionId: string, id: string, key: string) {
  const now = svc.clock.now();
  const [inserted, replaced] = await svc.d1.batch([
    svc.d1
      .prepare(
        `INSERT INTO sessionRecordings (id, sessionId, s3Key, transcriptionStatus, uploadCount, createdAt, updatedAt)
         SELECT ?, ?, ?, 'pending', used + 1, ?, ?
         FROM (SELECT COALESCE(MAX(uploadCount), 0) AS used FROM sessionRecordings WHERE sessionId = ?)
         WHERE used < ?
         RETURNING id`,
      )
      .bind(id, sessionId, key, now, now, sessionId, MAX_RECORDING_UPLOADS),
    svc.d1
      .prepare(
        `DELETE FROM sessionRecordings
         WHERE sessionId = ? AND id <> ? AND EXISTS (SELECT 1 FROM sessionRecordings fresh WHERE fresh.id = ?)
         RETURNING s3Key`,
      )
      .bind(sessionId, id, id),
  ]);
  if (!inserted?.results.length) return null;
  return (replaced?.results ?? []).map((r) => (r as { s3Key: string }).s3Key);
}

export async function uploadRecording(
  svc: ServiceContext,
  auth: Auth,
  sessionId: string,
  req: { contentType: string | undefined; contentLength: string | undefined; body: ReadableStream | null },
) {
  const { session, asTutor, asAdmin } = await accessSession(svc, auth, sessionId);
  if (!asTutor && !asAdmin) throw forbidden("Only the session's tutor or an admin can upload its recording");
  if (session.status !== "in_progress" && session.status !== "completed") {
    throw conflict(`A ${session.status} session has no recording yet`);
  }
  const contentType = req.contentType?.trim() ?? "";
  if (!AUDIO_TYPE.test(contentType)) {
    throw new DomainError("unsupported_media_type", "Send the recording as audio/* (e.g. audio/webm, audio/mpeg)");
  }
  if (!deepgramConfigured(svc.config)) throw new DomainError("provider_unavailable", "Transcription is not configured");
  // refused before any byte is streamed; the claim after storing is what makes the limit hold
  if (((await latestRecording(svc, session.id))?.uploadCount ?? 0) >= MAX_RECORDING_UPLOADS) throw uploadsUsedUp();
  // a new recording means a new report: not once the student has the published one (it is final,
  // like PATCH and regenerate), and not when no generation is left (the transcription would be paid for nothing)
  const report = await svc.db.query.lessonReports.findFirst({
    where: eq(lessonReports.sessionId, session.id),
    columns: { status: true, generations: true },
  });
  if (report?.status === "published")
    throw conflict("The lesson report is published: a new recording cannot replace it");
  if (report && report.generations >= MAX_REPORT_GENERATIONS) {
    throw conflict(`This session already had ${MAX_REPORT_GENERATIONS} report generations`);
  }
  const limit = svc.config.MAX_RECORDING_BYTES;
  const id = newId("rec");
  const key = `recordings/${session.id}/${id}`;
  const declared = req.contentLength?.trim();
  if (declared === undefined || declared === "") {
    if (!req.body) throw badRequest("The recording is empty", [{ path: "body", message: "Empty body" }]);
    await storeAudioChunked(svc.env.BUCKET, key, req.body, limit, contentType);
  } else {
    if (!/^\d+$/.test(declared)) {
      throw badRequest("Invalid Content-Length", [{ path: "content-length", message: "A byte count" }]);
    }
    const length = Number(declared);
    if (length > limit) throw new DomainError("payload_too_large", `Recordings are limited to ${limit} bytes`);
    if (length === 0 || !req.body) {
      throw badRequest("The recording is empty", [{ path: "body", message: "Empty body" }]);
    }
    await storeAudio(svc.env.BUCKET, key, req.body, length, limit, contentType);
  }

  // The new row and the removal of every other row of the session are one transaction: of two
  // concurrent uploads, the later batch wins. Each batch deletes exactly the audio of the rows it
  // replaced, so no cleanup can touch an upload still in flight.
  let replacedKeys: string[] | null;
  try {
    replacedKeys = await claimUpload(svc, session.id, id, key);
  } catch (err) {
    await svc.env.BUCKET.delete(key).catch(() => undefined);
    throw err;
  }
  if (!replacedKeys) {
    await svc.env.BUCKET.delete(key);
    throw uploadsUsedUp();
  }
  await enqueue(svc, { type: "transcription.request", recordingId: id });
  if (replacedKeys.length > 0) svc.defer(svc.env.BUCKET.delete(replacedKeys));
  return { id, sessionId: session.id, transcriptionStatus: "pending" as const };
}

/** The session's current recording (the latest upload). */
export async function latestRecording(svc: ServiceContext, sessionId: string): Promise<RecordingRow | undefined> {
  const [row] = await svc.db
    .select()
    .from(sessionRecordings)
    .where(eq(sessionRecordings.sessionId, sessionId))
    .orderBy(desc(sessionRecordings.createdAt), desc(sessionRecordings.id))
    .limit(1);
  return row;
}

export async function getRecording(svc: ServiceContext, auth: Auth, sessionId: string) {
  const { session } = await accessSession(svc, auth, sessionId);
  const row = await latestRecording(svc, session.id);
  if (!row) throw notFound("Recording");
  return recordingView(row);
}

export async function listRecordingsByStatus(
  svc: ServiceContext,
  q: { status?: RecordingRow["transcriptionStatus"]; limit: number; cursor?: string },
) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(sessionRecordings)
    .where(
      and(
        q.status ? eq(sessionRecordings.transcriptionStatus, q.status) : undefined,
        keysetAfter(sessionRecordings.updatedAt, sessionRecordings.id, after),
      ),
    )
    .orderBy(desc(sessionRecordings.updatedAt), desc(sessionRecordings.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, recordingView, (r) => [r.updatedAt, r.id]);
}

/**
 * Restarts a failed transcription (back to `pending`, a new Deepgram request) or, for a completed
 * transcription whose report is missing or failed, the report job. Anything else is 409.
 */
export async function retryRecording(svc: ServiceContext, adminId: string, id: string) {
  const row = await svc.db.query.sessionRecordings.findFirst({ where: eq(sessionRecordings.id, id) });
  if (!row) throw notFound("Recording");
  const now = svc.clock.now();
  // The audit row runs first in the batch, guarded on the state the restart requires: both see the
  // same state, so the row is written exactly when the restart is. The job is sent after the commit
  // (a queue send cannot join the transaction; a failed send is a 5xx and the admin retries).
  const audit = (restarted: "transcription" | "report", status: "failed" | "completed") =>
    insertAudit(svc.d1, auditEntry(svc, adminId, "recording.retry", id, { restarted, sessionId: row.sessionId }, now), {
      sql: "EXISTS (SELECT 1 FROM sessionRecordings WHERE id = ? AND transcriptionStatus = ?)",
      binds: [id, status],
    });
  if (row.transcriptionStatus === "failed") {
    const [, restarted] = await svc.d1.batch([
      audit("transcription", "failed"),
      toStatement(
        svc.d1,
        svc.db
          .update(sessionRecordings)
          .set({
            transcriptionStatus: "pending",
            transcriptionError: null,
            transcriptionText: null,
            transcriptionMeta: null,
            deepgramRequestId: null,
            callbackSecretHash: null,
            updatedAt: now,
          })
          .where(and(eq(sessionRecordings.id, id), eq(sessionRecordings.transcriptionStatus, "failed"))),
      ),
    ]);
    if ((restarted?.meta.changes ?? 0) === 0) throw conflict("The recording changed; reload it");
    await enqueue(svc, { type: "transcription.request", recordingId: id });
    return { id, action: "transcription" as const };
  }
  if (row.transcriptionStatus === "completed") {
    const report = await svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.sessionId, row.sessionId) });
    // each report generation is a paid model call: the session's cap holds for admins too
    if (report && report.generations >= MAX_REPORT_GENERATIONS) {
      throw conflict(`This session already had ${MAX_REPORT_GENERATIONS} report generations, the most it may have`);
    }
    if (!report || row.transcriptionError !== null) {
      const [written] = await svc.d1.batch([audit("report", "completed")]);
      if ((written?.meta.changes ?? 0) === 0) throw conflict("The recording changed; reload it");
      await enqueue(svc, { type: "report.generate", recordingId: id });
      return { id, action: "report" as const };
    }
  }
  throw conflict(`Nothing to retry: the transcription is ${row.transcriptionStatus}`);
}
