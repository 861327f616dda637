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
