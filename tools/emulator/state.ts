/**
 * Everything one emulator instance remembers (recorded calls, injected failures, idempotency keys,
 * each provider's objects), its settings, its log and its timers. One `State` is handed to every
 * provider module; nothing here is global, so several emulators can run in one process.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Call } from "./http.ts";
import type { Mail } from "./resend.ts";
import { newStripeStore, type StripeStore } from "./stripe/store.ts";

export interface EmulatorOptions {
  port?: number;
  host?: string;
  /** Origin at which browsers and the API reach the emulator (default http://<host>:<port>). */
  publicUrl?: string;
  /** The tutorloop API origin: Stripe webhooks go to `${apiUrl}/v1/webhooks/stripe`. */
  apiUrl?: string | null;
  /** Signs Stripe events (`Stripe-Signature`); must equal the API's STRIPE_WEBHOOK_SECRET. */
  stripeWebhookSecret?: string | null;
  /**
   * Signs Connect events (those with a top-level `account`, such as `account.updated`); must equal
   * the API's STRIPE_CONNECT_WEBHOOK_SECRET. Unset: they are signed with `stripeWebhookSecret`.
   */
  stripeConnectWebhookSecret?: string | null;
  /** POST Deepgram results to the `callback` URL (off in the unit tests, which post them). */
  deepgramCallbacks?: boolean;
  deepgramCallbackDelayMs?: number;
  /** Refuse audio whose bytes are no known container, like Deepgram (off in the unit tests). */
  sniffAudio?: boolean;
  /** `requests`: one line per call; `errors`: malformed calls and failed deliveries only. */
  log?: "requests" | "errors" | "quiet";
}

export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** `POST /__control/fail`: the next `times` calls to `path` (whose body contains `match`) answer `status`. */
export interface Failure {
  path: string;
  match?: string;
  status: number;
  body?: unknown;
  times: number;
}

/** An outgoing call the emulator made on its own (a Stripe webhook, a Deepgram callback). */
export interface Delivery {
  kind: "stripe" | "deepgram";
  id: string;
  target: string;
  status?: number;
  error?: string;
  /** what was sent (Deepgram callbacks), so tests can replay it */
  body?: string;
  at: number;
}

/** One delivery of the platform's outgoing webhooks (Standard Webhooks) to a receiver `POST /hooks/:name`. */
export interface HookDelivery {
  receiver: string;
  /** the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers as sent (null when absent) */
  webhookId: string | null;
  timestamp: string | null;
  signature: string | null;
  /** the body's `type`, when it is JSON with a string `type` */
  type: string | null;
  /** the body as received */
  body: string;
  /** epoch ms */
  receivedAt: number;
  /** what the receiver answered; null while (or because) it hangs */
  status: number | null;
  /** checked with the SDK's verifyWebhook; null when the receiver has no secret */
  verified: boolean | null;
  verifyError?: string;
}

/** A webhook receiver `/hooks/:name`: its secret, how it answers, its newest deliveries (oldest first). */
export interface HookReceiver {
  name: string;
  secret: string | null;
  /** `hang`: takes the request and never answers (until the client gives up or ~60 s pass) */
  mode: "ok" | "hang";
  deliveries: HookDelivery[];
  /** connections of this receiver left hanging, destroyed when the emulator closes */
  hanging: Set<Socket>;
}

/** The first answer to an idempotent request, replayed for the same key. */
export interface Idempotent {
  fingerprint: string;
  status: number;
  body: unknown;
}

export interface Log {
  /** one line per call (log level `requests` only) */
  info(msg: string): void;
  /** a call the real provider would refuse: always shown unless `quiet` */
  loud(provider: string, call: Call, reason: string): void;
  /** something went wrong on the emulator's side (a failed delivery, a missing setting) */
  warn(msg: string): void;
}

export interface State {
  readonly settings: {
    deepgramCallbacks: boolean;
    deepgramCallbackDelayMs: number;
    sniffAudio: boolean;
  };
  /** changeable at run time through `POST /__control/config` */
  apiUrl: string | null;
  webhookSecret: string | null;
  connectWebhookSecret: string | null;
  /** the emulator's public origin; known once the server listens */
  base: string;
  log: Log;
  recorded: Recorded[];
  failures: Failure[];
  idempotency: Map<string, Idempotent>;
  deliveries: Delivery[];
  mails: Mail[];
  /** webhook receivers by name (`POST /hooks/:name`) */
  hooks: Map<string, HookReceiver>;
  rooms: Map<string, { channel: string; title: string; role: string }>;
  stripe: StripeStore;
  /** runs `fn` after `ms` unless the emulator closes first */
  later(ms: number, fn: () => void): void;
  /** runs `fn` every `ms` until the emulator closes; does not keep the process alive */
  every(ms: number, fn: () => void): void;
  /** cancels every timer */
  stopTimers(): void;
}

export { unixSeconds } from "../common/stripe-signature.ts";

export const rid = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
export const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

function makeLog(level: "requests" | "errors" | "quiet"): Log {
  const color = (code: number, s: string) => (process.stderr.isTTY ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    info: (msg) => {
      if (level === "requests") console.log(`[emulator] ${msg}`);
    },
    loud: (provider, call, reason) => {
      if (level === "quiet") return;
      const u = call.req.url ?? "";
      const shown = u.length > 100 ? `${u.slice(0, 100)}…` : u;
      console.error(color(31, `[emulator] ✗ MALFORMED ${provider} call ${call.method} ${shown}: ${reason}`));
    },
    warn: (msg) => {
      if (level !== "quiet") console.error(color(33, `[emulator] ! ${msg}`));
    },
  };
}

export function createState(opts: EmulatorOptions): State {
  const timeouts = new Set<NodeJS.Timeout>();
  const intervals = new Set<NodeJS.Timeout>();
  return {
    settings: {
      deepgramCallbacks: opts.deepgramCallbacks ?? true,
      deepgramCallbackDelayMs: opts.deepgramCallbackDelayMs ?? 300,
      sniffAudio: opts.sniffAudio ?? true,
    },
    apiUrl: opts.apiUrl ?? null,
    webhookSecret: opts.stripeWebhookSecret ?? null,
    connectWebhookSecret: opts.stripeConnectWebhookSecret ?? null,
    base: opts.publicUrl ?? "",
    log: makeLog(opts.log ?? "requests"),
    recorded: [],
    failures: [],
    idempotency: new Map(),
    deliveries: [],
    mails: [],
    hooks: new Map(),
    rooms: new Map(),
    stripe: newStripeStore(),
    later(ms, fn) {
      const t = setTimeout(() => {
        timeouts.delete(t);
        fn();
      }, ms);
      timeouts.add(t);
    },
    every(ms, fn) {
      const t = setInterval(fn, ms);
      t.unref();
      intervals.add(t);
    },
    stopTimers() {
      for (const t of timeouts) clearTimeout(t);
      for (const t of intervals) clearInterval(t);
      timeouts.clear();
      intervals.clear();
    },
  };
}
