/**
 * The e2e suite's contract check: Stoplight Prism (`prism proxy`) validates the suite's API calls
 * against the served OpenAPI document, requests and responses, while forwarding every call as it is
 * (no `--errors`: a test that sends bad input on purpose still gets the API's own answer).
 *
 * - e2e/run.ts starts it once the stack is up (`startPrism`) and hands its URL to the test files in
 *   E2E_PROXY_URL; their client (e2e/helpers.ts) sends every JSON or body-less call through it. Calls
 *   with `raw` bytes (uploads, signed webhook payloads, malformed JSON) go straight to the API (Prism
 *   parses and re-encodes bodies, which would corrupt them), and so do `direct: true` calls (routes
 *   the document does not describe: the document itself, the reference page).
 * - Prism answers each call with an `sl-violations` header (its log does not say which request a
 *   violation belongs to); the client appends one line per call to E2E_PRISM_CALLS
 *   (`recordProxiedCall`), with the call site and whether the call was marked `expectViolation`
 *   (the test sends bad input on purpose).
 * - At the end `checkPrism` counts: any response violation, or a request violation of a call not
 *   marked `expectViolation`, fails the run; so do too few validated calls, and violations in
 *   Prism's own log that no client recorded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProxiedCall } from "../tools/offline/client.ts";
// wrangler.ts, not stack.ts: the test files load this module too (the emulator, vite: not needed there)
import { freePort, ROOT } from "../tools/offline/wrangler.ts";

const PRISM_CLI = join(ROOT, "node_modules/@stoplight/prism-cli/dist/index.js");

export interface Prism {
  url: string;
  /** Prism's own (text) log. */
  log: string;
  /** The clients' records, one JSON line per API call, proxied or direct (E2E_PRISM_CALLS). */
  calls: string;
  stop(): Promise<void>;
}

/** Starts `prism proxy` on the document `apiUrl` serves; resolves once a call through it gets an answer. */
export async function startPrism(apiUrl: string, dir: string, timeoutMs = 60_000): Promise<Prism> {
  const document = join(dir, "openapi.json");
  const served = await fetch(`${apiUrl}/v1/openapi.json`);
  if (!served.ok) throw new Error(`GET /v1/openapi.json: HTTP ${served.status}`);
  writeFileSync(document, await served.text());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = join(dir, "prism.log");
  const calls = join(dir, "prism-calls.jsonl");
  writeFileSync(calls, "");
  const fd = openSync(log, "a");
  // --no-cors: the API's own CORS headers and preflights are under test, not Prism's. One process:
  // its multi-process mode (the default under NODE_ENV=production) needs Node 24's node:cluster
  const args = [
    "proxy",
    document,
    apiUrl,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--no-cors",
    "--multiprocess=false",
  ];
  const child: ChildProcess = spawn(process.execPath, [PRISM_CLI, ...args], {
    stdio: ["ignore", fd, fd],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  closeSync(fd);
  let exitCode: number | null = null;
  const exited = new Promise<void>((ok) =>
    child.once("exit", (code) => {
      exitCode = code ?? 1;
      ok();
    }),
  );
  const stop = async () => {
    if (exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  // not left behind when the runner ends some other way (an uncaught error, process.exit)
  const orphan = () => child.kill("SIGTERM");
  process.once("exit", orphan);
  exited.then(() => process.off("exit", orphan));

  const until = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== null) throw new Error(`prism exited (${exitCode}) before answering; its log: ${log}`);
    const health = await fetch(`${url}/v1/health`).catch(() => null);
    if (health) {
      await health.text();
      recordProxiedCall(calls, {
        method: "GET",
        path: "/v1/health",
        status: health.status,
        proxied: true,
        expectViolation: false,
        violations: health.headers.get("sl-violations"),
      });
      if (health.status === 200) return { url, log, calls, stop };
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`prism did not answer on ${url} within ${timeoutMs} ms; its log: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface CallRecord extends ProxiedCall {
  /** The test file line that made the call (from the stack). */
  site: string;
}

/** Appends one call to `file` (the test files run in processes of their own: a line each, appended). */
export function recordProxiedCall(file: string, call: ProxiedCall) {
  // the innermost test file frame, else the innermost e2e/ frame (a helper called from a hook)
  const frames = (new Error().stack ?? "")
    .split("\n")
    .map((l) => /\(?(?:file:\/\/)?([^()\s]*\/e2e\/[^()\s]*\.ts):(\d+)/.exec(l))
    .filter((m) => m !== null && !m[1]?.endsWith("/e2e/prism.ts"))
    .map((m) => `${m?.[1]?.slice(ROOT.length + 1)}:${m?.[2]}`);
  const site = frames.find((f) => f.includes(".test.ts:")) ?? frames[0] ?? "";
  const record: CallRecord = { ...call, site };
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

interface Violation {
  location?: string[];
  severity?: string;
  code?: string | number;
  message?: string;
}

function violationsOf(header: string | null): Violation[] {
  if (!header) return [];
  try {
    const parsed = JSON.parse(header) as unknown;
    if (Array.isArray(parsed)) return parsed as Violation[];
  } catch {
    // Prism cuts the header at 8 KB ("Too many violations! …"): one violation that says so
  }
  return [{ location: ["request"], message: header.slice(0, 300) }];
}

/** Counts the run's violations, prints the summary; returns the lines that fail the run (none: it passed). */
export function checkPrism(prism: Prism, o: { minCalls: number }): string[] {
  const records = readFileSync(prism.calls, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CallRecord);
  const direct = records.filter((r) => !r.proxied);
  const proxied = records.filter((r) => r.proxied);
  let expected = 0;
  let markedValid = 0;
  const unexpected: string[] = [];
  const response: string[] = [];
  let recorded = 0;
  for (const r of proxied) {
    const vs = violationsOf(r.violations);
    recorded += vs.length;
    const where = `${r.method} ${r.path} → ${r.status}${r.site ? ` (${r.site})` : ""}`;
    const requestVs = vs.filter((v) => v.location?.[0] !== "response");
    for (const v of vs.filter((v) => v.location?.[0] === "response")) {
      response.push(`  response violation: ${where}: ${describe(v)}`);
    }
    if (r.expectViolation) {
      expected += requestVs.length;
      if (requestVs.length === 0) markedValid += 1;
    } else {
      for (const v of requestVs) unexpected.push(`  request violation: ${where}: ${describe(v)}`);
    }
  }

  // Prism's own log: every request it received, every violation it found, every call it failed
  const log = existsSync(prism.log) ? readFileSync(prism.log, "utf8").split("\n") : [];
  const received = log.filter((l) => /\[HTTP SERVER\] \S+ \S+ .*Request received$/.test(l)).length;
  const logged = log.filter((l) => /\[VALIDATOR\].*Violation: /.test(l)).length;
  const errors = log.filter((l) => /Request terminated with error/.test(l)).map((l) => `  prism: ${l.trim()}`);

  console.log(
    `prism: ${proxied.length} requests validated, ${unexpected.length} request violations, ${response.length} response violations` +
      ` (${expected} expected request violations on calls marked expectViolation;` +
      ` ${markedValid} marked calls valid per the document; Prism received ${received} requests, logged ${logged} violations;` +
      ` ${direct.length} calls went straight to the API: ${directKinds(direct)})`,
  );
  const failures = [...unexpected, ...response, ...errors];
  if (proxied.length < o.minCalls) {
    failures.push(`  only ${proxied.length} calls went through Prism (at least ${o.minCalls} expected)`);
  }
  if (logged > recorded) {
    failures.push(`  Prism logged ${logged} violations, the clients recorded ${recorded}: see ${prism.log}`);
  }
  return failures;
}

/** "12 PUT /v1/sessions/…/recording, …": the direct calls by method and path (ids folded). */
function directKinds(direct: CallRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of direct) {
    const key = `${r.method} ${r.path.split("?")[0]?.replace(/\/(?=[^/]*\d)[^/]{6,}/g, "/…")}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(", ") || "none";
}

function describe(v: Violation): string {
  const at = (v.location ?? []).slice(1).join(".");
  return `${v.severity ?? "?"} ${at ? `${at}: ` : ""}${v.message ?? JSON.stringify(v)}`;
}
