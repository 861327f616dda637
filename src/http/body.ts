/** Size limits for JSON bodies (413 before parsing). */
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
