// Copies the standalone bundle of @scalar/api-reference (a devDependency, version pinned by the
// lockfile) into the Worker's static assets, where /v1/docs loads it from the Worker's own origin:
// the API reference works offline and its CSP needs no CDN. Run by `postinstall`, so every
// `npm install` (a fresh clone, CI, a dependency bump) refreshes it before dev, tests or deploy.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = "@scalar/api-reference";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// The package exports neither its package.json nor the bundle: find its folder from its entry point.
let dir = dirname(createRequire(import.meta.url).resolve(PACKAGE));
while (
  !existsSync(join(dir, "package.json")) ||
  JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== PACKAGE
) {
  const up = dirname(dir);
  if (up === dir) throw new Error(`copy-api-reference: cannot find the folder of ${PACKAGE}`);
  dir = up;
}
const source = join(dir, "dist", "browser", "standalone.js");
if (!existsSync(source)) throw new Error(`copy-api-reference: ${source} is missing (did ${PACKAGE} move its bundle?)`);
const target = join(root, "public", "api-reference", "standalone.js");
mkdirSync(dirname(target), { recursive: true });
copyFileSync(source, target);
const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
console.log(`copy-api-reference: ${PACKAGE} ${version} → public/api-reference/standalone.js`);
