/**
 * `npm run test:e2e`: boots the provider emulator and `wrangler dev` on free ports with a fresh
 * local state, runs every `e2e/*.test.ts` (node:test, black box over HTTP) at once, then
 * `e2e/serial/*.test.ts` one by one (they move the test clock), and shuts everything
 * down. Prints `N passed, M failed` last; exits non-zero on any failure.
 * `E2E_KEEP=1` keeps the temp dir (wrangler log, state); `E2E_FILTER=auth` runs matching files only.
 * The tests' API calls go through Prism, validating them against the served OpenAPI document
 * (e2e/prism.ts): any response violation or unmarked request violation fails the run.
 * `E2E_PRISM=0` runs without it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";
import { Client } from "../tools/offline/client.ts";
import { seedDemo } from "../tools/offline/seed.ts";
import { freePort, OFFLINE_ADMIN_EMAIL, ROOT, startStack } from "../tools/offline/stack.ts";
import { E2E_ADMIN_EMAILS, MAX_RECORDING_BYTES } from "./helpers-config.ts";
import { checkPrism, type Prism, startPrism } from "./prism.ts";

const dir = mkdtempSync(join(tmpdir(), "tutorloop-e2e-"));
const wranglerLog = join(dir, "wrangler.log");
const started = Date.now();
console.log(`== e2e: booting the emulator and wrangler dev (state and log in ${dir})`);
const stack = await startStack({
  apiPort: await freePort(),
  emulatorPort: await freePort(),
  workDir: dir,
  persistTo: join(dir, "state"),
  wranglerLog,
  emulatorLog: "errors",
  extraVars: {
    // the demo seed's admin too: the journey test runs on the seeded catalogue
    ADMIN_EMAILS: `${E2E_ADMIN_EMAILS},${OFFLINE_ADMIN_EMAIL}`,
    OTP_MAX_PER_ADDRESS: "5",
    OTP_MAX_PER_IP: "10000",
    // every e2e login verifies from this machine's one IP
    OTP_VERIFY_MAX_PER_IP: "10000",
    MAX_RECORDING_BYTES: String(MAX_RECORDING_BYTES),
    CREDIT_PACKS: JSON.stringify([
      { id: "pack_5", credits: 5, priceCents: 5000, currency: "usd" },
      { id: "pack_20", credits: 20, priceCents: 18000, currency: "usd" },
    ]),
  },
}).catch((err) => {
  console.error(`e2e: could not start the stack: ${(err as Error).message}`);
  try {
    console.error(readFileSync(wranglerLog, "utf8").split("\n").slice(-40).join("\n"));
  } catch {
    // no log
  }
  process.exit(1);
});
console.log(`== e2e: API ${stack.apiUrl}, emulator ${stack.emulatorUrl} (up in ${Date.now() - started} ms)`);

// Prism, the validating proxy (e2e/prism.ts), starts while the demo catalogue is seeded
const prismStarting: Promise<Prism | null> =
  process.env.E2E_PRISM === "0" ? Promise.resolve(null) : startPrism(stack.apiUrl, dir);
prismStarting.catch(() => undefined);

// The demo catalogue, seeded by the code behind `npm run seed`, for e2e/journey.test.ts.
const seedStarted = Date.now();
await seedDemo({
  client: new Client(stack.apiUrl, stack.emulatorUrl ?? ""),
  adminEmail: OFFLINE_ADMIN_EMAIL,
  emulated: stack.emulated,
  workDir: dir,
  persistTo: join(dir, "state"),
}).catch(async (err) => {
  console.error(`e2e: the demo seed failed: ${(err as Error).message}`);
  await (await prismStarting.catch(() => null))?.stop();
  await stack.stop();
  process.exit(1);
});
console.log(`== e2e: demo catalogue seeded in ${Date.now() - seedStarted} ms`);
const prism = await prismStarting.catch(async (err) => {
  console.error(`e2e: could not start Prism: ${(err as Error).message}`);
  await stack.stop();
  process.exit(1);
});
if (prism) {
  console.log(`== e2e: Prism validates the tests' API calls at ${prism.url} (log: ${prism.log})`);
  process.env.E2E_PROXY_URL = prism.url;
  process.env.E2E_PRISM_CALLS = prism.calls;
}
console.log("== e2e: some tests send malformed provider calls on purpose: their ✗ MALFORMED lines are expected");

process.env.E2E_API_URL = stack.apiUrl;
process.env.E2E_EMULATOR_URL = stack.emulatorUrl ?? "";

const filter = process.env.E2E_FILTER;
const testFiles = (folder: string) =>
  readdirSync(join(ROOT, folder))
    .filter((f) => f.endsWith(".test.ts") && (!filter || f.includes(filter)))
    .sort()
    .map((f) => join(ROOT, folder, f));

let passed = 0;
let failed = 0;
const failures: string[] = [];
// e2e/*.test.ts run at once; e2e/serial/*.test.ts (they move the server's test clock, or make a
// provider refuse every call, which every concurrent test would feel) run afterwards, one at a time.
for (const phase of [
  { files: testFiles("e2e"), concurrency: true },
  { files: testFiles("e2e/serial"), concurrency: false },
]) {
  if (phase.files.length > 0) await runPhase(phase.files, phase.concurrency);
}

async function runPhase(files: string[], concurrency: boolean) {
  const stream = run({ files, concurrency, timeout: 240_000 });
  stream.on("test:pass", (data) => {
    if (data.details.type !== "suite" && data.file && data.name !== data.file) passed += 1;
  });
  stream.on("test:fail", (data) => {
    if (data.details.type === "suite" || data.name === data.file) {
      // a file or suite that failed outside its tests (load error, hook): count it once
      if ((data.details.error as { failureType?: string } | undefined)?.failureType !== "subtestsFailed") {
        failed += 1;
        failures.push(`${data.name}`);
      }
      return;
    }
    failed += 1;
    failures.push(`${data.name}`);
  });
  const reporter = stream.compose(spec);
  reporter.pipe(process.stdout);
  await new Promise<void>((ok) => reporter.on("end", () => ok()));
}

const prismFailures = prism ? checkPrism(prism, { minCalls: filter ? 1 : 100 }) : [];
if (prismFailures.length > 0) {
  console.log("prism: the API and its OpenAPI document disagree, or a test broke the document without saying so:");
  for (const f of prismFailures) console.log(f);
}
await prism?.stop();
await stack.stop();
const ok = failed === 0 && passed > 0 && prismFailures.length === 0;
if (failed > 0) {
  console.log(`\nwrangler log kept at ${wranglerLog}`);
  console.log(`failed: ${failures.join(" | ")}`);
} else if (prismFailures.length > 0) {
  console.log(`\nPrism's log and the calls kept in ${dir}`);
} else if (!process.env.E2E_KEEP) {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\ne2e finished in ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed${prismFailures.length > 0 ? ", the Prism check failed" : ""}`);
process.exit(ok ? 0 : 1);
