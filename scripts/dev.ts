/**
 * `npm run dev`: the whole local marketplace. Every provider whose keys are unset in .dev.vars
 * (Stripe, Resend, Deepgram, OpenAI, Agora, each on its own) is served by the provider emulator; the
 * others are the real ones. Applies the migrations, starts the emulator and `wrangler dev` (local
 * state in .wrangler/state, shared with `npm run dev:worker`), seeds the demo catalogue on the first
 * start, and prints where everything is.
 *
 *   --port N           API port (default 8787, or PORT)
 *   --emulator-port N  emulator port (default 8789, or EMULATOR_PORT)
 *   --offline          emulate every provider, whatever .dev.vars says (`npm run dev:offline`)
 *   --no-seed          do not seed the demo catalogue
 *   --fresh            start from empty local state (deletes .wrangler/state)
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { banner } from "../tools/offline/banner.ts";
import { Client } from "../tools/offline/client.ts";
import { DEV_DIR, firstAdmin, removeDevStack, writeDevStack } from "../tools/offline/dev-state.ts";
import { isSeeded, type SeedSummary, seedDemo } from "../tools/offline/seed.ts";
import { startStack } from "../tools/offline/stack.ts";
import { emulatedProviders, ensureDevVars, PROVIDERS, readDevVars } from "../tools/offline/vars.ts";
import { portIsFree, ROOT } from "../tools/offline/wrangler.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    "emulator-port": { type: "string", default: process.env.EMULATOR_PORT ?? "8789" },
    offline: { type: "boolean", default: false },
    "no-seed": { type: "boolean", default: false },
    fresh: { type: "boolean", default: false },
  },
});
const apiPort = Number(values.port);
const emulatorPort = Number(values["emulator-port"]);
for (const [name, v] of [
  ["--port", apiPort],
  ["--emulator-port", emulatorPort],
] as const) {
  if (!Number.isInteger(v) || v < 1 || v > 65535) {
    console.error(`${name} must be a port number (1-65535)`);
    process.exit(1);
  }
}

if (ensureDevVars()) console.log("Created .dev.vars from .dev.vars.example (local development values).");
const devVars = readDevVars();
const emulate = values.offline ? PROVIDERS : emulatedProviders(devVars);

const ports: [string, number][] = [["API", apiPort]];
if (emulate.length > 0) ports.push(["emulator", emulatorPort]);
for (const [name, port] of ports) {
  if (!(await portIsFree(port))) {
    console.error(`Port ${port} (${name}) is in use. Pick another: npm run dev -- --port N --emulator-port M`);
    process.exit(1);
  }
}
if (values.fresh) {
  console.log("--fresh: deleting the local state in .wrangler/state");
  rmSync(join(ROOT, ".wrangler", "state"), { recursive: true, force: true });
}

console.log("Applying migrations, starting the provider emulator and wrangler dev…");
const stack = await startStack({
  apiPort,
  emulatorPort,
  workDir: DEV_DIR,
  wranglerLog: "inherit",
  devVars,
  emulate,
  adminPage: "watch",
}).catch((err: Error) => {
  console.error(`Could not start the local stack: ${err.message}`);
  process.exit(1);
});
const adminEmail = firstAdmin(stack.vars.ADMIN_EMAILS);
writeDevStack({
  apiUrl: stack.apiUrl,
  emulatorUrl: stack.emulatorUrl,
  emulated: emulate,
  adminEmail,
  pid: process.pid,
});

let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping wrangler dev and the emulator…");
  removeDevStack();
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
void stack.exited.then((code) => {
  if (!stopping) console.error(`wrangler dev exited (${code}); stopping the emulator.`);
  void shutdown(code);
});

const client = new Client(stack.apiUrl, stack.emulatorUrl ?? "");
let seed: SeedSummary | "present" | { skipped: string };
if (values["no-seed"]) seed = { skipped: "--no-seed (npm run seed seeds it)" };
else if (await isSeeded(client)) seed = "present";
else {
  console.log("First start: seeding the demo catalogue (npm run seed)…");
  seed = await seedDemo({
    client,
    adminEmail,
    emulated: emulate,
    workDir: DEV_DIR,
    log: (m) => console.log(`  seed: ${m}`),
  }).catch((err: Error) => ({ skipped: `${err.message}` }));
}
const adminPage = await fetch(`${stack.apiUrl}/admin`).then(
  (r) => r.ok,
  () => false,
);
console.log(
  banner({ apiUrl: stack.apiUrl, emulatorUrl: stack.emulatorUrl, emulated: emulate, adminEmail, adminPage, seed }),
);
