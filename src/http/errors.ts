/**
 * The HTTP edge of domain errors: each code of `lib/errors.ts` mapped to its status in one place and
 * rendered as RFC 9457 problem+json. Nothing below `src/http` needs this file.
 */
import { DomainError, type ErrorCode, type FieldProblem } from "../lib/errors";

export { badRequest, conflict, forbidden, notFound } from "../lib/errors";
export { DomainError, type ErrorCode, type FieldProblem };

export const errorStatus: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  slot_unavailable: 409,
  policy_window_closed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
  rate_limited: 429,
  internal: 500,
  room_not_ready: 503,
  provider_unavailable: 503,
};

export const errorTitles: Record<ErrorCode, string> = {
  validation_failed: "Validation failed",
  unauthorized: "Unauthorized",
  insufficient_credits: "Insufficient credits",
  forbidden: "Forbidden",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  slot_unavailable: "Slot unavailable",
  policy_window_closed: "Outside the policy window",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  idempotency_conflict: "Idempotency key reused",
  rate_limited: "Too many requests",
  internal: "Internal error",
  room_not_ready: "Video room not ready",
  provider_unavailable: "Provider unavailable",
};

/** The HTTP edge's name for a domain error (kept so edge code reads as HTTP). */
export const ApiError = DomainError;
export type ApiError = DomainError;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldProblem[];
}

export const statusOf = (err: DomainError) => errorStatus[err.code];

export function problemBody(err: DomainError): Problem {
  return {
    type: `https://tutorloop.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: errorTitles[err.code],
    status: statusOf(err),
    detail: err.detail ?? errorTitles[err.code],
    code: err.code,
    ...(err.errors ? { errors: err.errors } : {}),
  };
}

export function problemResponse(err: DomainError, headers: Record<string, string> = {}): Response {
  const retry: Record<string, string> =
    err.retryAfterSeconds !== undefined ? { "retry-after": String(err.retryAfterSeconds) } : {};
  // RFC 9110: a 401 says how to authenticate.
  if (err.code === "unauthorized") retry["www-authenticate"] = 'Bearer realm="tutorloop"';
  return new Response(JSON.stringify(problemBody(err)), {
    status: statusOf(err),
    headers: { "content-type": "application/problem+json", ...retry, ...headers },
  });
}
