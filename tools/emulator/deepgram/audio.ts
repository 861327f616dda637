/**
 * Deepgram pre-recorded transcription: what the real API checks on `POST /v1/listen`, and the body
 * it posts to the callback URL (a recorded nova-3 answer for a short maths lesson).
 */
import { createHash, randomUUID } from "node:crypto";

export const LESSON_TRANSCRIPT =
  "Hi Sam, today we're going to work on quadratic equations. Let's start with x squared minus five x plus six " +
  "equals zero. Can you factor it? So it's x minus two times x minus three. Great, so the roots are two and " +
  "three. Now let's try one that doesn't factor nicely and use the quadratic formula instead. Next time we'll " +
  "practise completing the square.";

export const KNOWN_MODELS = new Set([
  "nova-3",
  "nova-3-general",
  "nova-3-medical",
  "nova-2",
  "nova-2-general",
  "nova-2-meeting",
  "nova-2-phonecall",
  "nova",
  "enhanced",
  "base",
  "whisper",
  "whisper-medium",
]);

const BOOLEAN_PARAMS = [
  "smart_format",
  "punctuate",
  "diarize",
  "detect_language",
  "utterances",
  "paragraphs",
  "profanity_filter",
  "numerals",
];

/** The real API's answer to unparseable audio. */
export const CORRUPT_AUDIO = "Bad Request: failed to process audio: corrupt or unsupported data";

/** The audio container of `body` by its magic bytes, or null. */
export function sniffAudio(body: Buffer): string | null {
  const ascii = (start: number, end: number) => body.subarray(start, end).toString("latin1");
  if (body.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") return "wav";
  if (body.length >= 3 && ascii(0, 3) === "ID3") return "mp3";
  if (body.length >= 4 && ascii(0, 4) === "OggS") return "ogg";
  if (body.length >= 4 && ascii(0, 4) === "fLaC") return "flac";
  if (body.length >= 4 && body.readUInt32BE(0) === 0x1a45dfa3) return "webm";
  if (body.length >= 8 && ascii(4, 8) === "ftyp") return "mp4";
  if (body.length >= 2 && body[0] === 0xff && ((body[1] ?? 0) & 0xe0) === 0xe0) return "mp3";
  return null;
}

/** Seconds of audio in a PCM WAV file (from its header), else an estimate. */
export function durationOf(body: Buffer, container: string | null): number {
  if (container === "wav" && body.length >= 44) {
    const byteRate = body.readUInt32LE(28);
    if (byteRate > 0) return Math.round(((body.length - 44) / byteRate) * 1000) / 1000;
  }
  return Math.max(1, Math.round((body.length / 16_000) * 1000) / 1000);
}

/** Problems with the query string that the real API answers 400 for. */
export function listenQueryProblems(query: URLSearchParams): string[] {
  const problems: string[] = [];
  const model = query.get("model");
  if (model && !KNOWN_MODELS.has(model))
    problems.push(`No such model/language/tier combination found (model=${model})`);
  for (const p of BOOLEAN_PARAMS) {
    const v = query.get(p);
    if (v !== null && v !== "true" && v !== "false") problems.push(`Invalid value for ${p}: expected true or false`);
  }
  const callback = query.get("callback");
  if (callback !== null) {
    try {
      const u = new URL(callback);
      if (u.protocol !== "http:" && u.protocol !== "https:") problems.push("callback must be an http(s) URL");
    } catch {
      problems.push("callback is not a valid URL");
    }
  }
  for (const e of query.getAll("extra")) {
    if (!e.includes(":")) problems.push(`extra must be key:value (got ${JSON.stringify(e)})`);
  }
  return problems;
}

/** `extra=key:value` query params as Deepgram echoes them in `metadata.extra`. */
export function extraOf(query: URLSearchParams): Record<string, string> | undefined {
  const all = query.getAll("extra");
  if (all.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of all) {
    const i = e.indexOf(":");
    out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

/** A full pre-recorded response (the callback body), as nova-3 answers it. */
export function listenResult(opts: {
  requestId: string;
  audio: Buffer;
  duration: number;
  query: URLSearchParams;
  transcript?: string;
}) {
  const transcript = opts.transcript ?? LESSON_TRANSCRIPT;
  const tokens = transcript.split(/\s+/).filter(Boolean);
  const step = opts.duration / Math.max(1, tokens.length);
  const diarize = opts.query.get("diarize") === "true";
  const sentences = transcript.split(/(?<=[.?!])\s+/);
  const words = tokens.map((w, i) => ({
    word: w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ""),
    start: Math.round(i * step * 1000) / 1000,
    end: Math.round((i + 0.9) * step * 1000) / 1000,
    confidence: 0.9 + ((i * 7) % 10) / 100,
    ...(diarize ? { speaker: 0, speaker_confidence: 0.83 } : {}),
    punctuated_word: w,
  }));
  const modelId = "3b3aabe4-608a-46ac-9585-7960a25daf1a";
  const model = opts.query.get("model") ?? "base";
  const extra = extraOf(opts.query);
  return {
    metadata: {
      transaction_key: "deprecated",
      request_id: opts.requestId,
      sha256: createHash("sha256").update(opts.audio).digest("hex"),
      created: new Date().toISOString(),
      duration: opts.duration,
      channels: 1,
      models: [modelId],
      model_info: { [modelId]: { name: `general-${model}`, version: "2024-12-20.0", arch: model } },
      ...(extra ? { extra } : {}),
    },
    results: {
      channels: [
        {
          ...(opts.query.get("detect_language") === "true"
            ? { detected_language: "en", language_confidence: 0.98 }
            : {}),
          alternatives: [
            {
              transcript,
              confidence: 0.97,
              words,
              paragraphs: {
                transcript: `\n${diarize ? "Speaker 0: " : ""}${transcript}`,
                paragraphs: [
                  {
                    sentences: sentences.map((text, i) => ({
                      text,
                      start: Math.round(((i * opts.duration) / sentences.length) * 1000) / 1000,
                      end: Math.round((((i + 1) * opts.duration) / sentences.length) * 1000) / 1000,
                    })),
                    ...(diarize ? { speaker: 0 } : {}),
                    num_words: words.length,
                    start: 0,
                    end: opts.duration,
                  },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}

export const newRequestId = () => randomUUID();
