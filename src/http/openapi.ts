/**
 * Route declaration helpers on @hono/zod-openapi: each route is declared once with its zod schemas,
 * so request validation, handler types and the OpenAPI 3.1 document come from the same source.
 */
import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ZodError } from "zod";
import { errorCodes } from "../lib/errors";
import { authenticate, authenticateClaims, type Guard } from "./auth";
import { jsonBodyLimit, utf8Body } from "./body";
import type { AppEnv } from "./context";
import { ApiError, type ErrorCode, errorStatus, type FieldProblem } from "./errors";
import { idempotent } from "./idempotency";
import { isJsonMediaType } from "./media-type";
import { type ApiTag, commonResponseHeaders, headerRef, operationDescription, operationIdOf } from "./openapi-document";

export function zodProblems(error: ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: base ? `${base}.${key}` : key, message: "Unknown field" });
      }
    } else {
      out.push({ path: base, message: issue.message });
    }
  }
  return out;
}

export function validationError(error: ZodError): ApiError {
  return new ApiError("validation_failed", "The request is invalid", zodProblems(error));
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error as ZodError);
    },
  });
}

/** 415 unless the request says it is JSON (checked before the body is parsed; see media-type.ts). */
export const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isJsonMediaType(c.req.header("content-type"))) {
    throw new ApiError("unsupported_media_type", "Send the body as application/json");
  }
  await next();
};

/** Like requireJson, but a request without any body (no Content-Type, no bytes) passes through. */
export const requireJsonIfBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  const length = c.req.header("content-length");
  if (!c.req.header("content-type") && (length === undefined || length === "0")) {
    if ((await c.req.text()).length === 0) return next();
  }
  return requireJson(c, next);
};

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(errorCodes),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** A problem response whose `code` is one of the codes this route declares for that status. */
export const problem = (description: string, codes: ErrorCode[]) => ({
  description,
  // a 429 says when to come back (rate-limit.ts and the one-time-code limits set it)
  headers: codes.includes("rate_limited")
    ? { ...commonResponseHeaders, "retry-after": headerRef.retryAfter }
    : commonResponseHeaders,
  content: {
    "application/problem+json": {
      schema: problemSchema.extend({ code: z.enum(codes as [ErrorCode, ...ErrorCode[]]) }),
    },
  },
});

/**
 * `{ id }` path parameters of an object whose ids start with `prefix_` (lib/crypto newId); the
 * example is what such an id looks like, for tools that call every operation (dredd, Prism).
 */
export const idParamsOf = (prefix: string) =>
  z.object({
    id: z
      .string()
      .min(1)
      .max(100)
      .openapi({ example: `${prefix}_mc4f7k2q9ZxT3vLw8sQaBn` }),
  });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/**
 * An integer query parameter, `min`–`max`: decimal digits only. `z.coerce.number()` would read an
 * empty `?from=` (and " ") as 0, "1e3" as 1000 and "0x10" as 16; here each of them is 400.
 */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, "A decimal integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: "integer", minimum: min, maximum: max });

const DEFAULT_PAGE_SIZE = 20;

/** `limit` (1–100, default 20) and `cursor` query parameters of every list. */
export const pageQuery = {
  // the document states the default itself: a default around a pipe is not rendered
  limit: queryInt(1, 100).default(DEFAULT_PAGE_SIZE).openapi({ default: DEFAULT_PAGE_SIZE }),
  cursor: z.string().min(1).max(500).optional(),
};

interface RouteSpec<
  B extends z.ZodType | undefined,
  Q extends z.ZodObject | undefined,
  P extends z.ZodObject | undefined,
> {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  tags: ApiTag[];
  guard?: Guard;
  /** The handler reads the caller with `withCaller`, batched with its own query (hot read routes). */
  batchedCaller?: boolean;
  body?: B;
  /** The JSON body may be omitted entirely (no Content-Type, no bytes): the handler then sees `undefined`. */
  optionalBody?: boolean;
  query?: Q;
  params?: P;
  /** Raw (non-JSON) request body, documented only; the handler reads the stream. */
  rawBody?: { contentTypes: string[]; description: string };
  ok: {
    status: number;
    description: string;
    schema?: z.ZodType;
    /** A body that is not JSON (an image, a calendar): documented by media type, never validated. */
    content?: Record<string, { schema: { type: "string"; format?: "binary" } }>;
  };
  /** The response carries an ETag and a matching `If-None-Match` gets 304 without a body. */
  conditional?: boolean;
  /**
   * The error codes this route's own rules can answer (the one declaration of them): their statuses
   * come from http/errors.ts, and the OpenAPI document lists each status with its codes. The guard's,
   * the body's and the parameters' codes are added here.
   */
  errors?: ErrorCode[];
  /**
   * The route honours an `Idempotency-Key` header, its records kept under this scope (idempotency.ts):
   * the header is documented and the middleware runs before the route's own.
   */
  idempotency?: string;
  middleware?: MiddlewareHandler<AppEnv>[];
}

/**
 * The header as the document shows it. Its validator accepts any string or none: idempotency.ts,
 * which runs first, checks the 1–255 characters and answers 400 itself.
 */
const idempotencyHeader = z.object({
  "idempotency-key": z.string().optional().openapi({
    description:
      "Any unique string of 1–255 characters. A retry with the same key and body returns the first answer and does nothing twice; the same key with another body is 422.",
    example: "7f9c1e0a-3b2d-4c5e-9f8a-1b2c3d4e5f60",
  }),
});

const errorText: Record<number, string> = {
  400: "Invalid input",
  401: "Missing, invalid or expired token",
  402: "Insufficient credits",
  403: "Not allowed for this role",
  404: "Not found (or not yours)",
  409: "Conflict",
  413: "Body too large",
  415: "Wrong content type",
  422: "Idempotency key reused with a different body",
  429: "Rate limited",
  503: "Provider unavailable",
};

type TypedRequest<B, Q, P> = (B extends z.ZodType
  ? { body: { required: true; content: { "application/json": { schema: B } } } }
  : { body?: undefined }) &
  (Q extends z.ZodObject ? { query: Q } : { query?: undefined }) &
  (P extends z.ZodObject ? { params: P } : { params?: undefined });

export function defineRoute<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  P extends z.ZodObject | undefined = undefined,
>(spec: RouteSpec<B, Q, P>) {
  const middleware: MiddlewareHandler<AppEnv>[] = [];
  if (spec.guard) middleware.push(spec.batchedCaller ? authenticateClaims(spec.guard) : authenticate(spec.guard));
  if (spec.body) middleware.push(spec.optionalBody ? requireJsonIfBody : requireJson, jsonBodyLimit, utf8Body);
  if (spec.idempotency) middleware.push(idempotent(spec.idempotency));
  middleware.push(...(spec.middleware ?? []));
  const responses: RouteConfig["responses"] = {
    [spec.ok.status]: {
      description: spec.ok.description,
      headers: spec.conditional ? { ...commonResponseHeaders, etag: headerRef.etag } : commonResponseHeaders,
      ...(spec.ok.schema ? { content: { "application/json": { schema: spec.ok.schema } } } : {}),
      ...(spec.ok.content ? { content: spec.ok.content } : {}),
    },
  };
  if (spec.conditional) {
    responses[304] = {
      description: "Not modified: the `If-None-Match` matched",
      headers: { ...commonResponseHeaders, etag: headerRef.etag },
    };
  }
  const codes = new Set<ErrorCode>(spec.errors ?? []);
  if (spec.guard) codes.add("unauthorized");
  if (spec.guard && spec.guard !== "user") codes.add("forbidden");
  if (spec.body)
    for (const c of ["validation_failed", "unsupported_media_type", "payload_too_large"] as const) codes.add(c);
  if (spec.query || spec.params) codes.add("validation_failed");
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  for (const status of [...byStatus.keys()].sort()) {
    const list = byStatus.get(status) ?? [];
    responses[status] = problem(`${errorText[status] ?? "Error"} (code: ${list.join(" | ")})`, list);
  }
  const request: RouteConfig["request"] = {};
  if (spec.body) {
    request.body = { required: !spec.optionalBody, content: { "application/json": { schema: spec.body } } };
  } else if (spec.rawBody) {
    request.body = {
      required: true,
      description: spec.rawBody.description,
      content: Object.fromEntries(
        // a plain OpenAPI schema (not zod): the raw body is documented, never parsed by a validator.
        // A JSON body is an object (a provider's event, checked by its signature), not a string.
        spec.rawBody.contentTypes.map((t) => [
          t,
          { schema: isJsonMediaType(t) ? { type: "object" as const } : { type: "string" as const, format: "binary" } },
        ]),
      ),
    };
  }
  if (spec.query) request.query = spec.query;
  if (spec.params) request.params = spec.params;
  if (spec.idempotency) request.headers = idempotencyHeader;
  return createRoute({
    method: spec.method,
    path: spec.path,
    operationId: operationIdOf(spec.method, spec.path),
    summary: spec.summary,
    description: operationDescription(spec),
    tags: spec.tags,
    // OpenAPI 3.1 lets a non-OAuth security requirement list the roles it needs: the guard's role
    // (none for "user": any valid token). Clients and the e2e authorization matrix read it. A route
    // without a guard says so (`[]`): it needs no token (webhooks carry their own signatures).
    security: spec.guard ? [{ bearerAuth: spec.guard === "user" ? [] : [spec.guard] }] : [],
    middleware,
    request: request as TypedRequest<B, Q, P>,
    responses,
  });
}

export { z };
