/**
 * `npm run dev:offline`: the whole product without any provider account or internet. Starts the
 * provider emulator (Stripe, Resend, Deepgram, OpenAI, Agora) and `wrangler dev` with every provider
 * URL pointing at it; local state lives in .wrangler/offline (separate from `npm run dev`).
 *
 * Ports: API 8787 and emulator 8789, or `--port N` / `--emulator-port N` (PORT / EMULATOR_PORT).
 * `--fresh` starts from an empty database. Ctrl-C stops both.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OFFLINE_ADMIN_EMAIL, portIsFree, ROOT, startStack } from "../tools/offline/stack.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8787" },
    "emulator-port": { type: "string", default: process.env.EMULATOR_PORT ?? "8789" },
    fresh: { type: "boolean", default: false },
  },
});
const apiPort = Number(values.port);
const emulatorPort = Number(values["emulator-port"]);
for (const [name, port] of [
  ["API", apiPort],
  ["emulator", emulatorPort],
] as const) {
  if (!(await portIsFree(port))) {
    console.error(`Port ${port} (${name}) is in use. Pick another: npm run dev:offline -- --port N --emulator-port M`);
    process.exit(1);
  }
}
const stateDir = join(ROOT, ".wrangler", "offline");
if (values.fresh) rmSync(stateDir, { recursive: true, force: true });

console.log("Applying migrations to the offline database and starting the emulator and wrangler dev…");
const stack = await startStack({ apiPort, emulatorPort, stateDir, wranglerLog: "inherit" });

console.log(`
  tutorloop offline is up
  API           ${stack.apiUrl}      (docs ${stack.apiUrl}/v1/docs)
  Emulator      ${stack.emulatorUrl}
  Inbox         ${stack.emulatorUrl}/inbox   (one-time login codes land here)
  Checkout      ${stack.emulatorUrl}/checkout
  Admin login   ${OFFLINE_ADMIN_EMAIL}
  Demo          npm run demo   (in another terminal)
  Ctrl-C stops both.
`);

let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping wrangler dev and the emulator…");
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
void stack.exited.then((code) => {
  if (!stopping) console.error(`wrangler dev exited (${code}); stopping the emulator.`);
  void shutdown(code);
});
