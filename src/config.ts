/**
 * Configuration, parsed once per `env` object with zod. A missing or malformed value fails here
 * with a message naming the variable, never as an `undefined` deep inside a handler.
 */
import { z } from "zod";
import type { Env } from "./env";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));
const url = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== "" ? v.trim() : fallback))
    .pipe(z.url());
const int = (fallback: number, min = 0) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? String(fallback) : v))
    .pipe(
      z
        .string()
        .regex(/^-?\d+$/, "must be an integer")
        .transform(Number)
        .pipe(z.number().int().min(min)),
    );

export const creditPackSchema = z.object({
  id: z.string().min(1),
  credits: z.number().int().positive(),
  priceCents: z.number().int().positive(),
  currency: z.string().length(3),
});
export type CreditPack = z.infer<typeof creditPackSchema>;

/**
 * CORS_ORIGINS: `*`, or comma-separated origins (`https://app.example`: scheme, host, optional port,
 * nothing else). Unset stays undefined here: the environment decides below whether that is allowed.
 */
const corsOrigins = z
  .string()
  .optional()
  .transform((v, ctx): "*" | string[] | undefined => {
    const list = (v ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    if (list.length === 0) return undefined;
    if (list.length === 1 && list[0] === "*") return "*";
    for (const origin of list) {
      if (!isOrigin(origin)) {
        ctx.addIssue({
          code: "custom",
          message: `${JSON.stringify(origin)} is not an origin (scheme://host[:port], e.g. https://app.example; \`*\` only alone)`,
        });
        return z.NEVER;
      }
    }
    return list;
  });

function isOrigin(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === value;
  } catch {
    return false;
  }
}

const DEFAULT_PACKS = '[{ "id": "pack_5", "credits": 5, "priceCents": 5000, "currency": "usd" }]';

const baseSchema = z.object({
  ENVIRONMENT: z.enum(["development", "production", "test"]).default("production"),
  PUBLIC_API_URL: url("http://localhost:8787"),
  JWT_SECRET: z
    .string({ error: "JWT_SECRET is required (set it in .dev.vars or with `wrangler secret put`)" })
    .min(32, "JWT_SECRET must be at least 32 characters"),
  /**
   * The secret before the last rotation (optional): keys derived from it still verify access
   * tokens, login codes and callback tokens (never sign), so a rotation does not log anyone out.
   */
  JWT_SECRET_PREVIOUS: optionalString.pipe(
    z.string().min(32, "JWT_SECRET_PREVIOUS must be at least 32 characters").optional(),
  ),
  JWT_ISSUER: z.string().default("tutorloop"),
  JWT_AUDIENCE: z.string().default("tutorloop-api"),
  AUTH_JWKS_URL: optionalString.pipe(z.url().optional()),
  ADMIN_EMAILS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    ),
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: optionalString,
  /** Connect events (`account.updated`) come from their own endpoint configuration with its own secret. */
  STRIPE_CONNECT_WEBHOOK_SECRET: optionalString,
  STRIPE_API_BASE: url("https://api.stripe.com"),
  CREDIT_PACKS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      try {
        return JSON.parse(v && v.trim() !== "" ? v : DEFAULT_PACKS) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "CREDIT_PACKS must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(z.array(creditPackSchema).min(1)),
  CHECKOUT_SUCCESS_URL: url("http://localhost:3000/credits/success"),
  CHECKOUT_CANCEL_URL: url("http://localhost:3000/credits/cancel"),
  /** Where Stripe's hosted Connect onboarding sends a tutor back (done) or when the link expired. */
  PAYOUT_ONBOARDING_RETURN_URL: url("http://localhost:3000/earnings/payouts"),
  PAYOUT_ONBOARDING_REFRESH_URL: url("http://localhost:3000/earnings/payouts/refresh"),
  DEEPGRAM_API_KEY: optionalString,
  DEEPGRAM_API_URL: url("https://api.deepgram.com"),
  DEEPGRAM_MODEL: z.string().default("nova-3"),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url("https://api.openai.com/v1"),
  OPENAI_MODEL: z.string().default("gpt-4o-mini"),
  RESEND_API_KEY: optionalString,
  RESEND_API_URL: url("https://api.resend.com"),
  EMAIL_FROM: z.string().default("tutorloop <no-reply@tutorloop.local>"),
  AGORA_APP_BUILDER_URL: optionalString.pipe(z.url().optional()),
  AGORA_API_KEY: optionalString,
  AGORA_PROJECT_ID: optionalString,
  SESSIONS_APP_URL: url("http://localhost:3001"),
  CANCELLATION_WINDOW_HOURS: int(24),
  /** A student may move a lesson until this many hours before its current start (0: until the start). */
  RESCHEDULE_WINDOW_HOURS: int(12),
  /** Lesson lifecycle (docs/lifecycle.md); 0 is allowed for the hours so tests can walk it at once. */
  NO_SHOW_GRACE_MINUTES: int(15),
  REPORT_WINDOW_HOURS: int(48),
  AUTO_COMPLETE_HOURS: int(2),
  SETTLEMENT_HOLD_HOURS: int(48),
  /** What a tutor earns per credit of a settled session, in PAYOUT_CURRENCY's minor unit. */
  TUTOR_PAYOUT_CENTS_PER_CREDIT: int(800, 1),
  PAYOUT_CURRENCY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? "usd" : v.trim().toLowerCase()))
    .pipe(z.string().regex(/^[a-z]{3}$/, "PAYOUT_CURRENCY must be a three-letter currency code")),
  /** A balance below this is carried to a later run (Stripe charges per transfer; tiny ones cost more). */
  PAYOUT_MINIMUM_CENTS: int(2000, 1),
  /** The UTC hour from which the daily payout run starts (the cron runs it once per UTC day). */
  PAYOUT_HOUR_UTC: int(2).pipe(z.number().max(23, "PAYOUT_HOUR_UTC must be an hour 0-23")),
  BOOKING_MIN_NOTICE_MINUTES: int(60),
  /** New tutor profiles start `pending` until an admin approves them (`false`: approved at once). */
  TUTOR_APPROVAL_REQUIRED: z
    .enum(["true", "false"], { error: "TUTOR_APPROVAL_REQUIRED must be true or false" })
    .default("true")
    .transform((v) => v === "true"),
  /** Hours a lesson report stays a draft for its tutor before it publishes itself (0: at once). */
  REPORT_REVIEW_HOURS: int(24),
  MAX_RECORDING_BYTES: int(209715200, 1),
  ACCESS_TOKEN_TTL_SECONDS: int(900, 30),
  OTP_MAX_PER_ADDRESS: int(5, 1),
  OTP_MAX_PER_IP: int(30, 1),
  OTP_MAX_FAILED_PER_ADDRESS: int(10, 1),
  OTP_VERIFY_MAX_PER_IP: int(60, 1),
  CORS_ORIGINS: corsOrigins,
  /** `off` only for local runs that must not be limited (the unit suite, the bench); never in production. */
  RATE_LIMITS: z.enum(["on", "off"], { error: "RATE_LIMITS must be on or off" }).default("on"),
});

/** Settings production refuses to run without, then the defaults that depend on the environment. */
const configSchema = baseSchema
  .superRefine((c, ctx) => {
    if (c.ENVIRONMENT !== "production") return;
    if (c.CORS_ORIGINS === undefined || c.CORS_ORIGINS === "*") {
      ctx.addIssue({
        code: "custom",
        path: ["CORS_ORIGINS"],
        message:
          "production needs the web origins allowed to call the API, comma-separated (e.g. https://app.example); unset or `*` is refused",
      });
    }
    if (c.RATE_LIMITS === "off") {
      ctx.addIssue({
        code: "custom",
        path: ["RATE_LIMITS"],
        message: "off is for local runs only (tests, bench); production always enforces the rate limits",
      });
    }
  })
  .transform((c) => ({ ...c, CORS_ORIGINS: c.CORS_ORIGINS ?? ("*" as const) }));

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** The typed configuration for this `env`; parsed on first use and cached. */
export function getConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
