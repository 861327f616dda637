/**
 * The bench's servers: a fresh local state per data set (migrations, then the seed SQL), and
 * `wrangler dev` on it, started the way every local tool starts it (tools/offline/wrangler.ts), with
 * the server's CPU time read from /proc.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../sdk/src/index.ts";
import { applyMigrations, executeSqlFile, freePort, startWorker } from "../tools/offline/wrangler.ts";
import { JWT_SECRET, NOW, STRIPE_WEBHOOK_SECRET } from "./config.ts";
import { type SeedSummary, writeSeed } from "./seed.ts";
import { ids, type Scale } from "./seed-base.ts";

export interface Server {
  url: string;
  bootMs: number;
  /** wrangler's log: requests, and the metered jobs' `bench-rows` lines (bench/rows.ts). */
  log: string;
  /** CPU time (ms) used so far by every process of the server (wrangler, its workerd instances). */
  cpuMs(): number | null;
  stop(): Promise<void>;
}

/** A typed client as one user (a bearer token minted by the bench). */
export const sdkAs = (server: Pick<Server, "url">, bearer: string | undefined) =>
  createClient({ baseUrl: server.url, getToken: () => bearer });

// The servers run in their own process groups; tools/offline/wrangler.ts ends them when this exits.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

/**
 * CPU time of a process group from /proc (utime + stime of each live member, in ms): the server's
 * cost per request, independent of whatever else the machine runs. null where /proc is missing.
 */
function groupCpuMs(pgid: number): number | null {
  if (process.platform !== "linux") return null;
  const TICK_MS = 10; // USER_HZ is 100 on Linux
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * TICK_MS;
}

/**
 * The Worker the bench servers run: src/index.ts with its queue consumer and cron metered too
 * (bench/metered-worker.js), as `wrangler dev <script>` with wrangler.toml's bindings and assets.
 */
export const METERED_WORKER = "bench/metered-worker.js";

/**
 * `wrangler dev bench/metered-worker.js` with exactly these variables: written to a dotenv file
 * (so no developer's .dev.vars applies, and no variadic `--var` swallows the script argument).
 */
export function startMeteredWorker(o: {
  port: number;
  persistTo: string;
  log: string;
  vars: Record<string, string>;
  args?: string[];
}) {
  const envFile = `${o.log}.env`;
  writeFileSync(
    envFile,
    `${Object.entries(o.vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join("\n")}\n`,
  );
  return startWorker({
    port: o.port,
    persistTo: o.persistTo,
    log: o.log,
    envFile,
    args: [METERED_WORKER, ...(o.args ?? [])],
  });
}

export async function startServer(stateDir: string, logFile: string): Promise<Server> {
  const worker = await startMeteredWorker({
    port: await freePort(),
    persistTo: stateDir,
    log: logFile,
    vars: {
      ENVIRONMENT: "development",
      // The bench measures throughput: its few users book far faster than the per-user limits allow.
      RATE_LIMITS: "off",
      JWT_SECRET,
      ADMIN_EMAILS: ids.adminEmail,
      STRIPE_WEBHOOK_SECRET,
      // The bench talks to no provider (Stripe, Resend, Agora, Deepgram, OpenAI keys unset).
      STRIPE_SECRET_KEY: "",
      RESEND_API_KEY: "",
      AGORA_APP_BUILDER_URL: "",
      AGORA_API_KEY: "",
      DEEPGRAM_API_KEY: "",
      OPENAI_API_KEY: "",
    },
  });
  return {
    url: worker.url,
    bootMs: worker.bootMs,
    log: logFile,
    cpuMs: () => groupCpuMs(worker.pid),
    stop: worker.stop,
  };
}

/** A fresh state dir for one data set: migrations, then the seed SQL files. */
export async function prepareState(scale: Scale, tmp: string) {
  const stateDir = join(tmp, `state-${scale.name}`);
  const started = performance.now();
  await applyMigrations(stateDir, join(tmp, `migrate-${scale.name}.log`));
  const migrateMs = performance.now() - started;
  const seed: SeedSummary = writeSeed(scale, join(tmp, `seed-${scale.name}`), NOW);
  const seedStarted = performance.now();
  for (const file of seed.files) {
    await executeSqlFile(file, stateDir);
  }
  const seedMs = performance.now() - seedStarted;
  return {
    stateDir,
    rows: seed.rows,
    files: seed.files.length,
    migrateMs: Math.round(migrateMs),
    seedMs: Math.round(seedMs),
  };
}
