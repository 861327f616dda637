/**
 * `POST /v1/webhooks/deepgram?token=…`: Deepgram's callback for one recording.
 *
 * - No valid token (signature, audience, expiry) → 401 and nothing is written.
 * - Every call with a valid token is logged in `deepgramWebhooks` (payload cut to 64 KiB), including
 *   calls then refused for a wrong `callback_secret` (401) or an unreadable body (400), so admins can
 *   see them.
 * - The `callback_secret` echoed in `metadata.extra` must match the hash stored for the recording's
 *   current request. An error payload without `extra` is accepted only if its `request_id` is the
 *   recording's current Deepgram request id.
 * - The recording moves from pending/processing to completed or failed with one conditional
 *   UPDATE, so a replayed or concurrent duplicate delivery changes nothing twice; a report job is
 *   enqueued only by the call that completed it.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { deepgramWebhooks, sessionRecordings } from "../../db/schema";
import { newId, safeEqual, sha256Hex } from "../../lib/crypto";
import { badRequest, DomainError } from "../../lib/errors";
import { enqueue } from "../../queues/enqueue";
import { verifyCallbackToken } from "./callback-token";

export const MAX_LOGGED_PAYLOAD = 64 * 1024;

interface DeepgramCallback {
  request_id?: unknown;
  err_code?: unknown;
  err_msg?: unknown;
  error?: unknown;
  metadata?: { request_id?: unknown; extra?: unknown };
  results?: {
    channels?: {
      detected_language?: unknown;
      alternatives?: { transcript?: unknown; confidence?: unknown }[];
    }[];
  };
}

function truncate(raw: string): string {
  if (raw.length <= MAX_LOGGED_PAYLOAD) return raw;
  // cut by bytes, not characters, then drop a possibly broken trailing code point
  const bytes = new TextEncoder().encode(raw).slice(0, MAX_LOGGED_PAYLOAD);
  return new TextDecoder().decode(bytes).replace(/\uFFFD$/, "");
}

function extraSecret(extra: unknown): string | undefined {
  if (extra && typeof extra === "object" && !Array.isArray(extra)) {
    const v = (extra as Record<string, unknown>).callback_secret;
    if (typeof v === "string") return v;
    if (Array.isArray(v) && typeof v[0] === "string") return v[0];
  }
  return undefined;
}

type Outcome =
  | { kind: "completed"; transcript: string; confidence: number; language: string }
  | { kind: "failed"; reason: string };

function outcomeOf(body: DeepgramCallback): Outcome {
  const alt = body.results?.channels?.[0]?.alternatives?.[0];
  if (typeof body.err_code === "string" || typeof body.err_msg === "string" || body.error !== undefined || !alt) {
    const msg =
      typeof body.err_msg === "string"
        ? body.err_msg
        : typeof body.error === "string"
          ? body.error
          : "the callback carried no transcript";
    const code = typeof body.err_code === "string" ? ` (${body.err_code})` : "";
    return { kind: "failed", reason: `Deepgram transcription failed${code}: ${msg}`.slice(0, 1000) };
  }
  const channel = body.results?.channels?.[0];
  return {
    kind: "completed",
    transcript: typeof alt.transcript === "string" ? alt.transcript : "",
    confidence: typeof alt.confidence === "number" ? alt.confidence : 0,
    language: typeof channel?.detected_language === "string" ? channel.detected_language : "en",
  };
}

/** The per-job callback secret never reaches the log table (admins can read it). */
export const redactSecrets = (raw: string) =>
  raw.replace(/("?callback_secret"?\s*[:=]\s*"?)[^",}\s\]]+/g, "$1[redacted]");

/** Keys whose string values are what was said (Deepgram's transcript, words, sentences, summaries). */
const SPOKEN = new Set(["transcript", "word", "punctuated_word", "text", "short"]);

function withoutSpoken(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSpoken);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SPOKEN.has(k) && typeof v === "string" ? `[${v.length} characters]` : withoutSpoken(v),
      ]),
    );
  }
  return value;
}

/**
 * The callback as the debug log keeps it: structure, timings, confidences and metadata, but not a
 * word of the lesson (the transcript lives in the recording only, where erasure and replacement
 * reach it; a log row outlives both). A body that is not JSON is kept as it came (secrets redacted).
 */
export function loggedPayload(raw: string, parsed: unknown): string {
  return parsed === null ? redactSecrets(raw) : redactSecrets(JSON.stringify(withoutSpoken(parsed)));
}

export async function handleDeepgramCallback(
  svc: ServiceContext,
  token: string | undefined,
  readBody: () => Promise<string>,
): Promise<{ received: true; action: "completed" | "failed" | "ignored" }> {
  const recordingId = await verifyCallbackToken(svc.config, token);
  if (!recordingId) throw new DomainError("unauthorized", "Missing, invalid or expired callback token");
  // the body is read only once the token holds (and never beyond its size limit)
  const raw = await readBody();

  let body: DeepgramCallback | null = null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as DeepgramCallback;
  } catch {
    body = null;
  }
  const requestId =
    typeof body?.metadata?.request_id === "string"
      ? body.metadata.request_id
      : typeof body?.request_id === "string"
        ? body.request_id
        : "";
  const outcome = body ? outcomeOf(body) : null;
  const now = svc.clock.now();
  await svc.db.insert(deepgramWebhooks).values({
    id: newId("dgw"),
    sessionRecordingId: recordingId,
    requestId: requestId.slice(0, 200),
    eventType: outcome?.kind === "completed" ? "transcription_complete" : "transcription_failed",
    payload: truncate(loggedPayload(raw, body)),
    processedAt: now,
  });
  if (!body || !outcome) throw badRequest("The callback body is not a JSON object");

  const rec = await svc.db.query.sessionRecordings.findFirst({ where: eq(sessionRecordings.id, recordingId) });
  // replaced recording, or a replay of a finished one: acknowledged, nothing changes
  if (!rec || (rec.transcriptionStatus !== "pending" && rec.transcriptionStatus !== "processing")) {
    return { received: true, action: "ignored" };
  }
  const secret = extraSecret(body.metadata?.extra);
  if (secret !== undefined) {
    if (!rec.callbackSecretHash || !safeEqual(await sha256Hex(secret), rec.callbackSecretHash)) {
      throw new DomainError("unauthorized", "The callback secret does not match");
    }
  } else if (outcome.kind === "completed" || !rec.deepgramRequestId || rec.deepgramRequestId !== requestId) {
    throw new DomainError("unauthorized", "The callback secret is missing");
  }
  if (rec.deepgramRequestId && requestId && rec.deepgramRequestId !== requestId) {
    // an answer to an earlier attempt of this recording
    return { received: true, action: "ignored" };
  }

  const live = and(
    eq(sessionRecordings.id, rec.id),
    inArray(sessionRecordings.transcriptionStatus, ["pending", "processing"]),
  );
  if (outcome.kind === "failed") {
    const [row] = await svc.db
      .update(sessionRecordings)
      .set({ transcriptionStatus: "failed", transcriptionError: outcome.reason, updatedAt: now })
      .where(live)
      .returning({ id: sessionRecordings.id });
    return { received: true, action: row ? "failed" : "ignored" };
  }
  const [row] = await svc.db
    .update(sessionRecordings)
    .set({
      transcriptionStatus: "completed",
      transcriptionText: outcome.transcript,
      transcriptionMeta: { confidence: outcome.confidence, language: outcome.language },
      transcriptionError: null,
      ...(requestId ? { deepgramRequestId: requestId } : {}),
      updatedAt: now,
    })
    .where(live)
    .returning({ id: sessionRecordings.id });
  if (!row) return { received: true, action: "ignored" };
  await enqueue(svc, { type: "report.generate", recordingId: rec.id });
  return { received: true, action: "completed" };
}
