/**
 * The Worker's bindings and variables, as declared in wrangler.toml (bindings) and .dev.vars /
 * `wrangler secret put` (secrets). `src/config.ts` turns the string variables into a typed Config.
 */
import type { CreditLedger } from "./ledger/credit-ledger";
import type { QueueMessage } from "./queues/messages";

export interface Env {
  DB: D1Database;
  BUCKET: R2Bucket;
  JOBS: Queue<QueueMessage>;
  /** Stripe fulfilment only: never queued behind e-mails or video rooms. */
  PAYMENTS: Queue<QueueMessage>;
  CREDIT_LEDGER: DurableObjectNamespace<CreditLedger>;

  ENVIRONMENT?: string;
  PUBLIC_API_URL?: string;
  JWT_SECRET?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  AUTH_JWKS_URL?: string;
  ADMIN_EMAILS?: string;
  STRIPE_SECRET_KEY?: string;
  STRIPE_WEBHOOK_SECRET?: string;
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
  BOOKING_MIN_NOTICE_MINUTES?: string;
  MAX_RECORDING_BYTES?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  OTP_MAX_PER_ADDRESS?: string;
  OTP_MAX_PER_IP?: string;
  CORS_ORIGINS?: string;
}
