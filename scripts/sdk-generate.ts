/**
 * `npm run sdk:generate`: boots the Worker (with the emulator, as the e2e suite does) on free ports,
 * reads its OpenAPI document and writes the SDK's types (sdk/src/schema.d.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SCHEMA_FILE, typesFromDocument } from "../sdk/generate.ts";
import { freePort, startStack } from "../tools/offline/stack.ts";

const dir = mkdtempSync(join(tmpdir(), "tutorloop-sdk-"));
const stack = await startStack({
  apiPort: await freePort(),
  emulatorPort: await freePort(),
  workDir: dir,
  persistTo: join(dir, "state"),
  wranglerLog: join(dir, "wrangler.log"),
  emulatorLog: "quiet",
});
try {
  const res = await fetch(`${stack.apiUrl}/v1/openapi.json`);
  if (!res.ok) throw new Error(`GET /v1/openapi.json answered ${res.status}`);
  const types = await typesFromDocument(await res.json());
  writeFileSync(SCHEMA_FILE, types);
  console.log(`wrote ${fileURLToPath(SCHEMA_FILE)} (${types.length} characters)`);
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
