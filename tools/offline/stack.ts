/**
 * The local stack: the migrations applied, the provider emulator for every emulated provider, and
 * `wrangler dev` with those providers' URLs pointing at it. Used by `npm run dev` (scripts/dev.ts)
 * and the e2e suite (e2e/run.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { type AdminBuild, buildAdmin } from "./admin-build.ts";
import { PROVIDERS, type Provider, workerVars, writeEnvFile } from "./vars.ts";
import { applyMigrations, startWorker, type Worker } from "./wrangler.ts";

export {
  OFFLINE_ADMIN_EMAIL,
  OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET,
  OFFLINE_STRIPE_WEBHOOK_SECRET,
  offlineVars,
} from "./vars.ts";
export { freePort, portIsFree, ROOT } from "./wrangler.ts";

export interface StackOptions {
  apiPort: number;
  emulatorPort: number;
  /** Where the generated env file goes. */
  workDir: string;
  /** Local state (D1, R2, queues, Durable Objects); wrangler's default (.wrangler/state) when unset. */
  persistTo?: string;
  /** Where wrangler's output goes: the terminal, or appended to this file. */
  wranglerLog: "inherit" | string;
  emulatorLog?: "requests" | "errors" | "quiet";
  /** The developer's .dev.vars (none in the e2e suite). */
  devVars?: Record<string, string>;
  /** Providers to emulate (default: all). */
  emulate?: Provider[];
  /** Variables that win over everything else. */
  extraVars?: Record<string, string>;
  healthTimeoutMs?: number;
  /** The back-office page: rebuilt on every change (`npm run dev`), or built once (default). */
  adminPage?: "watch" | "build";
}

export interface Stack {
  apiUrl: string;
  /** null when every provider is real. */
  emulatorUrl: string | null;
  emulator: Emulator | null;
  emulated: Provider[];
  /** The variables the Worker runs with. */
  vars: Record<string, string>;
  worker: Worker;
  admin: AdminBuild;
  /** Resolves when wrangler exits. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const apiUrl = `http://127.0.0.1:${o.apiPort}`;
  const emulated = o.emulate ?? PROVIDERS;
  const emulatorUrl = emulated.length > 0 ? `http://127.0.0.1:${o.emulatorPort}` : null;
  const vars = workerVars({
    apiUrl,
    emulatorUrl: emulatorUrl ?? "",
    devVars: o.devVars,
    emulate: emulated,
    extra: o.extraVars,
  });
  mkdirSync(o.workDir, { recursive: true });
  const envFile = join(o.workDir, "worker.env");
  writeEnvFile(envFile, vars);

  // the page is static assets: built before wrangler starts, so /admin answers as soon as the API does
  const [, admin] = await Promise.all([
    applyMigrations(o.persistTo),
    buildAdmin({ watch: o.adminPage === "watch", log: (m) => console.log(m) }),
  ]);

  const emulator = emulatorUrl
    ? await startEmulator({
        port: o.emulatorPort,
        apiUrl,
        // the secrets the Worker verifies with (its vars, above), so the two can never disagree
        stripeWebhookSecret: emulated.includes("stripe") ? (vars.STRIPE_WEBHOOK_SECRET ?? null) : null,
        stripeConnectWebhookSecret: emulated.includes("stripe") ? (vars.STRIPE_CONNECT_WEBHOOK_SECRET ?? null) : null,
        log: o.emulatorLog ?? "requests",
      })
    : null;
  let worker: Worker;
  try {
    worker = await startWorker({
      port: o.apiPort,
      persistTo: o.persistTo,
      envFile,
      log: o.wranglerLog,
      timeoutMs: o.healthTimeoutMs ?? 120_000,
    });
  } catch (err) {
    await Promise.all([emulator?.close(), admin.close()]);
    throw err;
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= worker.stop().then(() => Promise.all([emulator?.close(), admin.close()]).then(() => undefined));
    return stopping;
  };
  return { apiUrl, emulatorUrl, emulator, emulated, vars, worker, admin, exited: worker.exited, stop };
}
