/**
 * The offline stack: the provider emulator plus `wrangler dev` with every provider URL pointing at
 * it, a local D1/R2/queue/Durable Object state in its own directory, and the migrations applied.
 * Used by `npm run dev:offline` (scripts/dev-offline.ts) and the e2e suite (e2e/run.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, startEmulator } from "../emulator/server.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const OFFLINE_STRIPE_WEBHOOK_SECRET = "whsec_offline_emulator_secret";
export const OFFLINE_ADMIN_EMAIL = "admin@tutorloop.local";

/** The Worker's variables for an offline run: every provider at the emulator. */
export function offlineVars(apiUrl: string, emulatorUrl: string, extra: Record<string, string> = {}) {
  return {
    ENVIRONMENT: "development",
    PUBLIC_API_URL: apiUrl,
    JWT_SECRET: "offline-dev-only-secret-0123456789abcdef0123",
    ADMIN_EMAILS: OFFLINE_ADMIN_EMAIL,
    STRIPE_SECRET_KEY: "sk_test_offline_emulator",
    STRIPE_WEBHOOK_SECRET: OFFLINE_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: emulatorUrl,
    CHECKOUT_SUCCESS_URL: `${emulatorUrl}/checkout/{CHECKOUT_SESSION_ID}`,
    CHECKOUT_CANCEL_URL: `${emulatorUrl}/checkout`,
    RESEND_API_KEY: "re_offline_emulator",
    RESEND_API_URL: emulatorUrl,
    DEEPGRAM_API_KEY: "dg_offline_emulator",
    DEEPGRAM_API_URL: emulatorUrl,
    OPENAI_API_KEY: "sk-offline-emulator",
    OPENAI_BASE_URL: `${emulatorUrl}/v1`,
    AGORA_APP_BUILDER_URL: emulatorUrl,
    AGORA_API_KEY: "agora_offline_key",
    AGORA_PROJECT_ID: "agora_offline_project",
    SESSIONS_APP_URL: `${emulatorUrl}/meet`,
    BOOKING_MIN_NOTICE_MINUTES: "0",
    // generous login-code limits: the demo logs the same addresses in again and again
    OTP_MAX_PER_ADDRESS: "30",
    OTP_MAX_PER_IP: "300",
    ...extra,
  };
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once("error", () => ok(false));
    s.listen(port, "127.0.0.1", () => s.close(() => ok(true)));
  });
}

function wranglerBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

export interface StackOptions {
  apiPort: number;
  emulatorPort: number;
  /** Local state (D1, R2, queues, Durable Objects) and the generated env file. */
  stateDir: string;
  /** Where wrangler's output goes: inherit the terminal, or append to this file. */
  wranglerLog: "inherit" | string;
  emulatorLog?: "requests" | "errors" | "quiet";
  extraVars?: Record<string, string>;
  healthTimeoutMs?: number;
}

export interface Stack {
  apiUrl: string;
  emulatorUrl: string;
  emulator: Emulator;
  wrangler: ChildProcess;
  /** Resolves when wrangler exits. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

const dotenvLine = (k: string, v: string) => `${k}='${v.replace(/'/g, "")}'`;

export async function startStack(o: StackOptions): Promise<Stack> {
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  const emulatorUrl = `http://127.0.0.1:${o.emulatorPort}`;
  mkdirSync(o.stateDir, { recursive: true });
  const persistTo = join(o.stateDir, "state");
  const envFile = join(o.stateDir, "worker.env");
  writeFileSync(
    envFile,
    `${Object.entries(offlineVars(apiUrl, emulatorUrl, o.extraVars))
      .map(([k, v]) => dotenvLine(k, v))
      .join("\n")}\n`,
  );

  const bin = wranglerBin();
  const migrate = spawnSync(
    process.execPath,
    [bin, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  if (migrate.status !== 0) {
    throw new Error(`migrations failed (exit ${migrate.status}):\n${migrate.stdout}\n${migrate.stderr}`);
  }

  const emulator = await startEmulator({
    port: o.emulatorPort,
    apiUrl,
    stripeWebhookSecret: OFFLINE_STRIPE_WEBHOOK_SECRET,
    log: o.emulatorLog ?? "requests",
  });

  const inspectorPort = await freePort();
  const args = [
    bin,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(o.apiPort),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--env-file",
    envFile,
    "--show-interactive-dev-session=false",
  ];
  let out: "inherit" | "pipe" = "inherit";
  const logStream = o.wranglerLog === "inherit" ? null : createWriteStream(o.wranglerLog, { flags: "a" });
  if (logStream) out = "pipe";
  const wrangler = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", out, out],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      FORCE_COLOR: logStream ? "0" : (process.env.FORCE_COLOR ?? ""),
    },
  });
  if (logStream) {
    wrangler.stdout?.pipe(logStream);
    wrangler.stderr?.pipe(logStream);
  }
  const exited = new Promise<number>((ok) => wrangler.once("exit", (code, signal) => ok(code ?? (signal ? 1 : 0))));
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (wrangler.exitCode === null && wrangler.pid) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const killer = setTimeout(() => {
        try {
          if (wrangler.pid) process.kill(-wrangler.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(killer);
    }
    await emulator.close();
    logStream?.end();
  };

  // wait for the Worker to answer
  const deadline = Date.now() + (o.healthTimeoutMs ?? 120_000);
  let exitedEarly = false;
  void exited.then(() => {
    exitedEarly = true;
  });
  for (;;) {
    if (exitedEarly) {
      await stop();
      throw new Error(`wrangler dev exited before answering${logStream ? ` (see ${o.wranglerLog})` : ""}`);
    }
    try {
      const r = await fetch(`${apiUrl}/v1/health`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer ${apiUrl}/v1/health in time`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { apiUrl, emulatorUrl, emulator, wrangler, exited, stop };
}
