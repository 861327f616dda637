/**
 * One error class with a closed list of codes, mapped to HTTP statuses in one place. Services throw
 * ApiError; only the HTTP edge (`app.onError`) turns it into RFC 9457 problem+json.
 */
export const errorStatus = {
  validation_failed: 400,
  unauthorized: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slot_unavailable: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
  rate_limited: 429,
  internal: 500,
  room_not_ready: 503,
  provider_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

const titles: Record<ErrorCode, string> = {
  validation_failed: "Validation failed",
  unauthorized: "Unauthorized",
  insufficient_credits: "Insufficient credits",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  slot_unavailable: "Slot unavailable",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  idempotency_conflict: "Idempotency key reused",
  rate_limited: "Too many requests",
  internal: "Internal error",
  room_not_ready: "Video room not ready",
  provider_unavailable: "Provider unavailable",
};

export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string = titles[code],
    readonly errors?: FieldProblem[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.status = errorStatus[code];
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldProblem[];
}

export function problemBody(err: ApiError): Problem {
  return {
    type: `https://tutorloop.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: titles[err.code],
    status: err.status,
    detail: err.detail,
    code: err.code,
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

export function problemResponse(err: ApiError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problemBody(err)), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers, ...headers },
  });
}

/** Shorthands used by services. */
export const notFound = (what = "Resource") => new ApiError("not_found", `${what} not found`);
export const forbidden = (detail = "You are not allowed to do this") => new ApiError("forbidden", detail);
export const conflict = (detail: string) => new ApiError("conflict", detail);
export const badRequest = (detail: string, errors?: FieldProblem[]) =>
  new ApiError("validation_failed", detail, errors ?? [{ path: "", message: detail }]);
