/**
 * Deepgram pre-recorded transcription at its HTTP boundary: `POST /v1/listen` answers
 * `{ request_id }` and later POSTs the result to the `callback` URL, retrying like Deepgram
 * (without `callback`, the result comes back at once); non-audio is refused.
 */
import type { Call } from "../http.ts";
import { hasAuth, jsonOf, send } from "../http.ts";
import type { State } from "../state.ts";
import { CORRUPT_AUDIO, durationOf, listenQueryProblems, listenResult, newRequestId, sniffAudio } from "./audio.ts";

/** POSTs the result; retries (1 s, 2 s, 4 s) on a network error, a 5xx or a 429, like Deepgram. */
async function deliverCallback(state: State, target: string, requestId: string, body: unknown, attempt = 1) {
  const { log, deliveries } = state;
  try {
    const sent = JSON.stringify(body);
    const r = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", "dg-token": requestId, "user-agent": "Deepgram/1.0" },
      body: sent,
    });
    const text = await r.text();
    deliveries.push({ kind: "deepgram", id: requestId, target, status: r.status, body: sent, at: Date.now() });
    if (r.ok) {
      log.info(`deepgram callback ${requestId} → ${r.status} ${text.slice(0, 120)}`);
      return;
    }
    log.warn(`deepgram callback ${requestId} → HTTP ${r.status}: ${text.slice(0, 300)}`);
    if (r.status < 500 && r.status !== 429) return;
  } catch (err) {
    deliveries.push({ kind: "deepgram", id: requestId, target, error: (err as Error).message, at: Date.now() });
    log.warn(`deepgram callback ${requestId} not delivered to ${target}: ${(err as Error).message}`);
  }
  if (attempt < 4) {
    state.later(1000 * 2 ** (attempt - 1), () => void deliverCallback(state, target, requestId, body, attempt + 1));
  }
}

/** `POST /v1/listen`. */
export function deepgram(state: State, call: Call): boolean {
  const { path, method, headers, url, raw, res } = call;
  if (path !== "/v1/listen" || method !== "POST") return false;
  const dgError = (status: number, code: string, msg: string) => {
    state.log.loud("deepgram", call, msg);
    return send(res, status, { err_code: code, err_msg: msg, request_id: newRequestId() });
  };
  if (!hasAuth(headers, "Token")) return dgError(401, "INVALID_AUTH", "Invalid credentials.");
  const problems = listenQueryProblems(url.searchParams);
  if (problems.length > 0) return dgError(400, "Bad Request", problems.join("; "));
  const type = (headers["content-type"] ?? "").toLowerCase();
  const isUrl = type.startsWith("application/json");
  let audio = raw;
  if (isUrl) {
    const parsed = jsonOf(call.body) as { url?: unknown } | null | undefined;
    if (typeof parsed?.url !== "string") {
      return dgError(400, "Bad Request", 'Invalid JSON body: expected { "url": string }');
    }
    audio = Buffer.from(parsed.url);
  } else {
    if (raw.length === 0) return dgError(400, "Bad Request", "No audio was provided.");
    const audioLike =
      type === "" ||
      type.startsWith("audio/") ||
      type.startsWith("video/") ||
      type.startsWith("application/octet-stream");
    if (!audioLike) return dgError(400, "Bad Request", `${CORRUPT_AUDIO} (content-type ${type})`);
  }
  const container = isUrl ? "url" : sniffAudio(raw);
  if (state.settings.sniffAudio && container === null) return dgError(400, "Bad Request", CORRUPT_AUDIO);
  const requestId = newRequestId();
  const result = listenResult({
    requestId,
    audio,
    duration: container === "url" ? 60 : durationOf(raw, container),
    query: url.searchParams,
  });
  const callback = url.searchParams.get("callback");
  if (!callback) return send(res, 200, result);
  if (state.settings.deepgramCallbacks) {
    state.later(state.settings.deepgramCallbackDelayMs, () => void deliverCallback(state, callback, requestId, result));
  }
  return send(res, 200, { request_id: requestId });
}
