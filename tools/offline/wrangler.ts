/**
 * The one place Node tooling drives wrangler and finds ports: free ports, running a wrangler command
 * to completion, applying the migrations, and `wrangler dev` started and waited for until it answers
 * /v1/health. Used by `npm run dev` (tools/offline/stack.ts), the e2e suite, the demo seed and the
 * bench, so every one of them boots the Worker the same way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

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

/** Environment of wrangler children whose output is captured: no prompts, colours or telemetry. */
const quietEnv = () => ({
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
});

/** `--persist-to <dir>` when a state dir is given; wrangler's default (.wrangler/state) otherwise. */
export const persistArgs = (persistTo?: string) => (persistTo ? ["--persist-to", persistTo] : []);

/** Runs wrangler to completion; rejects with the tail of its output on a non-zero exit. */
export function runWrangler(args: string[], logFile?: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      env: quietEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => {
      if (logFile) writeFileSync(logFile, out);
      if (code === 0) ok(out);
      else fail(new Error(`wrangler ${args.slice(0, 3).join(" ")} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

export const applyMigrations = (persistTo?: string, logFile?: string) =>
  runWrangler(["d1", "migrations", "apply", "DB", "--local", ...persistArgs(persistTo)], logFile);

/** Runs a SQL file against the local D1 database (the state a `wrangler dev` on `persistTo` uses). */
export const executeSqlFile = (file: string, persistTo?: string, json = false) =>
  runWrangler([
    "d1",
    "execute",
    "DB",
    "--local",
    ...persistArgs(persistTo),
    "--file",
    file,
    ...(json ? ["--json"] : []),
  ]);

export interface WorkerOptions {
  port: number;
  /** Local state (D1, R2, queues, Durable Objects); wrangler's default when unset. */
  persistTo?: string;
  /** The Worker's variables as a dotenv file (wrangler then ignores .dev.vars). */
  envFile?: string;
  /** Variables passed as `--var` (they override .dev.vars and wrangler.toml). */
  vars?: Record<string, string>;
  /** Wrangler's output: the terminal, or this file. */
  log: "inherit" | string;
  timeoutMs?: number;
  /** More `wrangler dev` flags (the bench's sweep server adds `--test-scheduled`). */
  args?: string[];
}

export interface Worker {
  url: string;
  /** Spawn to first healthy answer, ms. */
  bootMs: number;
  /** The process group of wrangler and its workerd children. */
  pid: number;
  /** Resolves with wrangler's exit code. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** Every wrangler dev still running, so a signal handler can end them (they run detached). */
export const runningWorkers = new Set<ChildProcess>();
// Detached groups outlive a crashed parent: whatever way this process ends, take them with it.
process.once("exit", () => {
  for (const child of runningWorkers) killGroup(child, "SIGKILL");
});

export function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Starts `wrangler dev` on 127.0.0.1 and resolves once GET /v1/health answers 2xx. */
export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const toFile = o.log !== "inherit";
  const args = [
    WRANGLER,
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(o.port),
    "--inspector-port",
    String(await freePort()),
    ...persistArgs(o.persistTo),
    ...(o.envFile ? ["--env-file", o.envFile] : []),
    "--show-interactive-dev-session=false",
    ...Object.entries(o.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ...(o.args ?? []),
  ];
  const started = performance.now();
  // Its own process group, so stopping it also ends the workerd processes it starts.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", toFile ? "pipe" : "inherit", toFile ? "pipe" : "inherit"],
    env: toFile ? quietEnv() : { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  runningWorkers.add(child);
  const logStream = toFile ? createWriteStream(o.log, { flags: "a" }) : null;
  if (logStream) {
    child.stdout?.pipe(logStream);
    child.stderr?.pipe(logStream);
  }
  const exited = new Promise<number>((ok) =>
    child.once("exit", (code, signal) => {
      runningWorkers.delete(child);
      ok(code ?? (signal ? 1 : 0));
    }),
  );
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const killer = setTimeout(() => killGroup(child, "SIGKILL"), 5000);
        killGroup(child, "SIGTERM");
        await exited;
        clearTimeout(killer);
      }
      logStream?.end();
    })();
    return stopping;
  };

  const url = `http://127.0.0.1:${o.port}`;
  const timeoutMs = o.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  const where = toFile ? `; see ${o.log}` : "";
  let exitCode: number | null = null;
  void exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    if (exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited (${exitCode}) before answering${where}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer ${url}/v1/health within ${timeoutMs / 1000} s${where}`);
    }
    try {
      const r = await fetch(`${url}/v1/health`);
      await r.arrayBuffer();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    bootMs: Math.round(performance.now() - started),
    pid: child.pid ?? 0,
    exited,
    stop,
  };
}
