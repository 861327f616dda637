/**
 * The Worker's variables for a local run. Each provider is either real (its keys are set in
 * .dev.vars) or emulated (keys unset: its URLs point at the provider emulator and placeholder keys
 * are filled in), decided per provider. The e2e suite emulates all of them.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { ROOT } from "./wrangler.ts";

export const OFFLINE_STRIPE_WEBHOOK_SECRET = "whsec_offline_emulator_secret";
/** Distinct from the platform secret, so the offline stack exercises the two-endpoint path Stripe has. */
export const OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_offline_emulator_connect_secret";
export const OFFLINE_ADMIN_EMAIL = "admin@tutorloop.local";

export type Provider = "stripe" | "resend" | "deepgram" | "openai" | "agora";
export const PROVIDERS: Provider[] = ["stripe", "resend", "deepgram", "openai", "agora"];
export const PROVIDER_NAMES: Record<Provider, string> = {
  stripe: "Stripe",
  resend: "Resend",
  deepgram: "Deepgram",
  openai: "OpenAI",
  agora: "Agora",
};

/** The keys that make a provider real: all of them must be set. */
const PROVIDER_KEYS: Record<Provider, string[]> = {
  stripe: ["STRIPE_SECRET_KEY"],
  resend: ["RESEND_API_KEY"],
  deepgram: ["DEEPGRAM_API_KEY"],
  openai: ["OPENAI_API_KEY"],
  agora: ["AGORA_APP_BUILDER_URL", "AGORA_API_KEY", "AGORA_PROJECT_ID"],
};

/** What pointing a provider at the emulator sets (these win over .dev.vars for an emulated provider). */
function emulatorWiring(p: Provider, emu: string): Record<string, string> {
  switch (p) {
    case "stripe":
      return {
        STRIPE_SECRET_KEY: "sk_test_offline_emulator",
        // the emulator signs its events with this secret, so the Worker must verify with it
        STRIPE_WEBHOOK_SECRET: OFFLINE_STRIPE_WEBHOOK_SECRET,
        // …and its Connect events (`account.updated`) with this one
        STRIPE_CONNECT_WEBHOOK_SECRET: OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET,
        STRIPE_API_BASE: emu,
        CHECKOUT_SUCCESS_URL: `${emu}/checkout/{CHECKOUT_SESSION_ID}`,
        CHECKOUT_CANCEL_URL: `${emu}/checkout`,
        // no front end offline: onboarding returns to the emulator's Connect dashboard
        PAYOUT_ONBOARDING_RETURN_URL: `${emu}/connect?link=returned`,
        PAYOUT_ONBOARDING_REFRESH_URL: `${emu}/connect?link=expired`,
      };
    case "resend":
      return { RESEND_API_KEY: "re_offline_emulator", RESEND_API_URL: emu };
    case "deepgram":
      return { DEEPGRAM_API_KEY: "dg_offline_emulator", DEEPGRAM_API_URL: emu };
    case "openai":
      return { OPENAI_API_KEY: "sk-offline-emulator", OPENAI_BASE_URL: `${emu}/v1` };
    case "agora":
      return {
        AGORA_APP_BUILDER_URL: emu,
        AGORA_API_KEY: "agora_offline_key",
        AGORA_PROJECT_ID: "agora_offline_project",
        SESSIONS_APP_URL: `${emu}/meet`,
      };
  }
}

/** Local defaults under .dev.vars: bookable at once, and logins the demo and seed can repeat. */
function localDefaults(apiUrl: string): Record<string, string> {
  return {
    ENVIRONMENT: "development",
    PUBLIC_API_URL: apiUrl,
    JWT_SECRET: "offline-dev-only-secret-0123456789abcdef0123",
    ADMIN_EMAILS: OFFLINE_ADMIN_EMAIL,
    BOOKING_MIN_NOTICE_MINUTES: "0",
    OTP_MAX_PER_ADDRESS: "30",
    OTP_MAX_PER_IP: "300",
    OTP_VERIFY_MAX_PER_IP: "600",
  };
}

/** Providers whose keys are not all set in `vars`. */
export function emulatedProviders(vars: Record<string, string>): Provider[] {
  return PROVIDERS.filter((p) => PROVIDER_KEYS[p].some((k) => !vars[k]?.trim()));
}

/**
 * The Worker's variables: local defaults, then `devVars` (the developer's .dev.vars), then the
 * emulator wiring of every provider in `emulate`.
 */
export function workerVars(o: {
  apiUrl: string;
  emulatorUrl: string;
  devVars?: Record<string, string>;
  emulate: Provider[];
  extra?: Record<string, string>;
}): Record<string, string> {
  const vars = { ...localDefaults(o.apiUrl), ...(o.devVars ?? {}) };
  for (const p of o.emulate) Object.assign(vars, emulatorWiring(p, o.emulatorUrl));
  return { ...vars, ...(o.extra ?? {}) };
}

/** Every provider at the emulator (the e2e suite). */
export const offlineVars = (apiUrl: string, emulatorUrl: string, extra: Record<string, string> = {}) =>
  workerVars({ apiUrl, emulatorUrl, emulate: PROVIDERS, extra });

export const DEV_VARS = join(ROOT, ".dev.vars");

/** Creates .dev.vars from .dev.vars.example when missing (never overwrites); true if it did. */
export function ensureDevVars(): boolean {
  if (existsSync(DEV_VARS)) return false;
  copyFileSync(join(ROOT, ".dev.vars.example"), DEV_VARS);
  return true;
}

/** .dev.vars parsed (empty values dropped: an empty key means "not configured"). */
export function readDevVars(file = DEV_VARS): Record<string, string> {
  if (!existsSync(file)) return {};
  const parsed = parseEnv(readFileSync(file, "utf8")) as Record<string, string>;
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v.trim() !== ""));
}

/** Writes `vars` as a dotenv file that wrangler reads back verbatim (no expansion in quotes). */
export function writeEnvFile(file: string, vars: Record<string, string>) {
  const line = ([k, v]: [string, string]) => {
    if (!v.includes("'")) return `${k}='${v}'`;
    if (!v.includes("`")) return `${k}=\`${v}\``;
    throw new Error(`${k}: a value with both ' and \` cannot be passed to wrangler`);
  };
  writeFileSync(file, `${Object.entries(vars).map(line).join("\n")}\n`, { mode: 0o600 });
}
