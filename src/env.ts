/**
 * The Worker's bindings and variables. The bindings' types come from wrangler.toml through
 * `wrangler types` (worker-configuration.d.ts, committed; `npm run cf-typegen` regenerates it after a
 * change to wrangler.toml); the queues are narrowed to their message schema. Variables and secrets
 * (.dev.vars, `wrangler secret put`) are optional strings here: `src/config.ts` parses them once into
 * a typed Config, with defaults, so no module reads a raw variable.
 */
import type { QueueMessage } from "./queues/messages";

type Bindings = Pick<Cloudflare.Env, "DB" | "BUCKET" | "CREDIT_LEDGER">;

/**
 * The Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml): every `RATE_LIMIT_*` name of the
 * generated types. Read from `__BaseEnv_Env` (what `wrangler types` declares from wrangler.toml),
 * not `Cloudflare.Env`, which the tests extend with this very interface.
 */
export type RateLimitBindings = {
  [K in keyof __BaseEnv_Env as K extends `RATE_LIMIT_${string}` ? K : never]: RateLimit;
};

export interface Env extends Bindings, RateLimitBindings {
  JOBS: Queue<QueueMessage>;
  /** Stripe fulfilment only: never queued behind e-mails or video rooms. */
  PAYMENTS: Queue<QueueMessage>;
  /** Outgoing webhook fan-out and delivery attempts: slow endpoints wait here, nowhere else. */
  WEBHOOKS: Queue<QueueMessage>;

  ENVIRONMENT?: string;
  PUBLIC_API_URL?: string;
  JWT_SECRET?: string;
  JWT_SECRET_PREVIOUS?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  AUTH_JWKS_URL?: string;
  ADMIN_EMAILS?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
  STRIPE_CONNECT_WEBHOOK_SECRET?: string;
  STRIPE_API_BASE?: string;
  CREDIT_PACKS?: string;
  CHECKOUT_SUCCESS_URL?: string;
  CHECKOUT_CANCEL_URL?: string;
  DEEPGRAM_API_KEY?: string;
  DEEPGRAM_API_URL?: string;
  DEEPGRAM_MODEL?: string;
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_MODEL?: string;
  RESEND_API_KEY?: string;
  RESEND_API_URL?: string;
  EMAIL_FROM?: string;
  AGORA_APP_BUILDER_URL?: string;
  AGORA_API_KEY?: string;
  AGORA_PROJECT_ID?: string;
  SESSIONS_APP_URL?: string;
  CANCELLATION_WINDOW_HOURS?: string;
  RESCHEDULE_WINDOW_HOURS?: string;
  BOOKING_MIN_NOTICE_MINUTES?: string;
  MAX_RECORDING_BYTES?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  OTP_MAX_PER_ADDRESS?: string;
  OTP_MAX_PER_IP?: string;
  OTP_MAX_FAILED_PER_ADDRESS?: string;
  OTP_VERIFY_MAX_PER_IP?: string;
  CORS_ORIGINS?: string;
  RATE_LIMITS?: string;
}
