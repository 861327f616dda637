/**
 * Domain errors: one class with a closed list of codes. Services, the ledger client, providers' callers
 * and jobs throw DomainError; they know nothing of HTTP. Only the HTTP edge (`http/errors.ts`, used by
 * `app.onError`) maps a code to a status and renders RFC 9457 problem+json.
 */
export const errorCodes = [
  "validation_failed",
  "unauthorized",
  "insufficient_credits",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "slot_unavailable",
  "payload_too_large",
  "unsupported_media_type",
  "idempotency_conflict",
  "rate_limited",
  "internal",
  "room_not_ready",
  "provider_unavailable",
  "policy_window_closed",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface FieldProblem {
  path: string;
  message: string;
}

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    /** Human-readable; `undefined` means the code's standard title. */
    readonly detail?: string,
    readonly errors?: FieldProblem[],
    /** When the caller may try again (rate limits, a resource being prepared). */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail ?? code);
  }
}

/** Shorthands used by services. */
export const notFound = (what = "Resource") => new DomainError("not_found", `${what} not found`);
export const forbidden = (detail = "You are not allowed to do this") => new DomainError("forbidden", detail);
export const conflict = (detail: string) => new DomainError("conflict", detail);
export const badRequest = (detail: string, errors?: FieldProblem[]) =>
  new DomainError("validation_failed", detail, errors ?? [{ path: "", message: detail }]);
