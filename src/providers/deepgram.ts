/**
 * Deepgram pre-recorded transcription with a callback:
 * `POST {DEEPGRAM_API_URL}/v1/listen?model=…&callback=…&extra=callback_secret:…` with
 * `Authorization: Token <key>` and the raw audio as body answers `{ request_id }` at once; the
 * transcript arrives later at the callback URL.
 */
import { z } from "zod";
import type { Config } from "../config";
import { ProviderError } from "./errors";

const listenResponse = z.object({ request_id: z.string().min(1) });

export function deepgramConfigured(config: Config): boolean {
  return Boolean(config.DEEPGRAM_API_KEY);
}

export interface ListenRequest {
  audio: ReadableStream | ArrayBuffer;
  contentType: string;
  callbackUrl: string;
  callbackSecret: string;
}

/** A request Deepgram refused for good (4xx other than 408/429): retrying cannot fix it. */
export class DeepgramRejected extends Error {
  override name = "DeepgramRejected";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function listenUrl(config: Config, callbackUrl: string, callbackSecret: string): string {
  const url = new URL(`${config.DEEPGRAM_API_URL.replace(/\/+$/, "")}/v1/listen`);
  url.searchParams.set("model", config.DEEPGRAM_MODEL);
  url.searchParams.set("smart_format", "true");
  url.searchParams.set("punctuate", "true");
  url.searchParams.set("diarize", "true");
  url.searchParams.set("detect_language", "true");
  url.searchParams.set("callback", callbackUrl);
  url.searchParams.set("extra", `callback_secret:${callbackSecret}`);
  return url.toString();
}

export async function requestTranscription(config: Config, req: ListenRequest): Promise<{ requestId: string }> {
  if (!config.DEEPGRAM_API_KEY) throw new ProviderError("deepgram", "not configured", false);
  let res: Response;
  try {
    res = await fetch(listenUrl(config, req.callbackUrl, req.callbackSecret), {
      method: "POST",
      headers: { authorization: `Token ${config.DEEPGRAM_API_KEY}`, "content-type": req.contentType },
      body: req.audio,
    });
  } catch (err) {
    throw new ProviderError("deepgram", `network error: ${(err as Error).message}`, true);
  }
  if (!res.ok) {
    const transient = res.status >= 500 || res.status === 429 || res.status === 408;
    if (transient) throw new ProviderError("deepgram", `HTTP ${res.status}`, true, res.status);
    const detail = (await res.json().catch(() => null)) as { err_msg?: unknown; err_code?: unknown } | null;
    const reason = typeof detail?.err_msg === "string" ? detail.err_msg : `HTTP ${res.status}`;
    throw new DeepgramRejected(res.status, `Deepgram rejected the audio (HTTP ${res.status}): ${reason.slice(0, 500)}`);
  }
  const parsed = listenResponse.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new ProviderError("deepgram", "unexpected response shape", true);
  return { requestId: parsed.data.request_id };
}
