/**
 * What the bench measures without load: the machine it runs on, the Worker's bundle size
 * (`wrangler deploy --dry-run`, gzip) against its budget, and the Worker's startup CPU time
 * (`wrangler check startup`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { buildAdmin } from "../tools/offline/admin-build.ts";
import { runWrangler } from "../tools/offline/wrangler.ts";
import { ADMIN_JS_BUDGET_GZIP, BUNDLE_BUDGET_GZIP, ROOT, round, STARTUP_LIMIT_MS } from "./config.ts";

export function machine() {
  const cpus = os.cpus();
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  let commit = "unknown";
  try {
    commit = readFileSync(join(ROOT, ".git", "HEAD"), "utf8").trim();
    if (commit.startsWith("ref: ")) commit = readFileSync(join(ROOT, ".git", commit.slice(5)), "utf8").trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    workerd: pkg("workerd"),
    wrangler: pkg("wrangler"),
    autocannon: pkg("autocannon"),
    commit: commit.slice(0, 12),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

export async function measureBundle(tmp: string) {
  const outdir = join(tmp, "dist");
  const output = await runWrangler(["deploy", "--dry-run", "--outdir", outdir], join(tmp, "deploy-dry-run.log"));
  const files = filesUnder(outdir)
    .filter((f) => !f.endsWith(".map") && !f.endsWith("README.md"))
    .map((f) => {
      const bytes = readFileSync(f);
      return { file: relative(outdir, f), bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
    });
  const gzipBytes = files.reduce((s, f) => s + f.gzipBytes, 0);
  const wranglerSays = output.match(/Total Upload:\s*([\d.]+ KiB)\s*\/\s*gzip:\s*([\d.]+ KiB)/);
  return {
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
    gzipBytes,
    gzipKiB: round(gzipBytes / 1024, 1),
    budgetKiB: BUNDLE_BUDGET_GZIP / 1024,
    ok: gzipBytes <= BUNDLE_BUDGET_GZIP,
    wranglerReports: wranglerSays ? { total: wranglerSays[1], gzip: wranglerSays[2] } : null,
  };
}

/**
 * The back-office page as a browser downloads it: a fresh production build, then every JS and CSS
 * file under public/admin/assets gzipped (source maps are only fetched by developer tools).
 */
export async function measureAdminBundle() {
  const build = await buildAdmin({ watch: false });
  const dir = join(ROOT, "public", "admin", "assets");
  const files = filesUnder(dir)
    .filter((f) => f.endsWith(".js") || f.endsWith(".css"))
    .map((f) => {
      const bytes = readFileSync(f);
      return { file: relative(dir, f), bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
    });
  const sum = (ext: string, k: "bytes" | "gzipBytes") =>
    files.filter((f) => f.file.endsWith(ext)).reduce((s, f) => s + f[k], 0);
  const jsGzipBytes = sum(".js", "gzipBytes");
  return {
    files,
    buildMs: build.firstBuildMs,
    jsBytes: sum(".js", "bytes"),
    jsGzipKiB: round(jsGzipBytes / 1024, 1),
    cssGzipKiB: round(sum(".css", "gzipBytes") / 1024, 1),
    budgetKiB: ADMIN_JS_BUDGET_GZIP / 1024,
    ok: jsGzipBytes <= ADMIN_JS_BUDGET_GZIP && jsGzipBytes > 0,
  };
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** `wrangler check startup`: a CPU profile of evaluating the Worker's global scope in workerd. */
export async function measureStartup(tmp: string) {
  const outfile = join(tmp, "worker-startup.cpuprofile");
  try {
    await runWrangler(["check", "startup", "--outfile", outfile], join(tmp, "check-startup.log"));
    const profile = JSON.parse(readFileSync(outfile, "utf8")) as CpuProfile;
    const totalMs = (profile.endTime - profile.startTime) / 1000;
    // Busy time: samples not in (idle)/(program)/(garbage collector) — what evaluation really costs.
    const idle = new Set(
      profile.nodes.filter((n) => ["(idle)", "(program)"].includes(n.callFrame.functionName)).map((n) => n.id),
    );
    let busyUs = 0;
    (profile.samples ?? []).forEach((node, i) => {
      if (!idle.has(node)) busyUs += profile.timeDeltas?.[i] ?? 0;
    });
    return {
      profileMs: round(totalMs, 1),
      busyMs: round(busyUs / 1000, 1),
      limitMs: STARTUP_LIMIT_MS,
      ok: totalMs <= STARTUP_LIMIT_MS,
      error: null as string | null,
    };
  } catch (err) {
    return { profileMs: null, busyMs: null, limitMs: STARTUP_LIMIT_MS, ok: false, error: String(err).slice(0, 500) };
  }
}
