/** Size limits for JSON bodies (413 before parsing) and their encoding (UTF-8 only). */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

export const MAX_JSON_BYTES = 64 * 1024;

export const jsonBodyLimit: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_JSON_BYTES,
  onError: () => {
    throw new ApiError("payload_too_large", `JSON bodies are limited to ${MAX_JSON_BYTES} bytes`);
  },
});

/**
 * Refuses (400, path `body`) a JSON body that is not valid UTF-8. The framework's parser would read
 * each bad byte as U+FFFD and store that; a client sending broken bytes should hear about it instead.
 * Runs after the size limit; the bytes stay cached on the request, so the validator parses them without
 * reading the stream again. A failing read (over the limit) is not ours to answer: it propagates.
 */
export const utf8Body: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bytes = await c.req.arrayBuffer();
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("validation_failed", "The body is not valid UTF-8", [
      { path: "body", message: "Invalid UTF-8 byte sequence" },
    ]);
  }
  await next();
};

/** Reads a raw body as text, refusing (413) more than `max` bytes whatever Content-Length says. */
export async function readTextLimited(req: Request, max: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (declared > max) throw new ApiError("payload_too_large", `Bodies are limited to ${max} bytes`);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new ApiError("payload_too_large", `Bodies are limited to ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
