/**
 * Lets the bench import the Worker's own modules (e.g. the booking guard's SQL, to EXPLAIN exactly
 * what the app runs) with Node's type stripping: src/ imports say `./x` or `../db/schema` as the
 * bundler resolves them, Node wants `./x.ts` or `../db/schema/index.ts`. This resolve hook adds the
 * suffix for relative imports made from src/ and leaves every other import alone.
 */
import { existsSync, statSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ROOT } from "./config.ts";

const SRC = pathToFileURL(`${ROOT}/src/`).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith(".") && context.parentURL?.startsWith(SRC) && !specifier.endsWith(".ts")) {
      for (const suffix of [".ts", "/index.ts"]) {
        const url = new URL(`${specifier}${suffix}`, context.parentURL);
        const path = fileURLToPath(url);
        if (existsSync(path) && statSync(path).isFile()) return nextResolve(url.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
});

/** Imports `src/<path>` (e.g. "ledger/booking-sql.ts") as the Worker's bundle would. */
export const importFromSrc = <T>(path: string): Promise<T> => import(`${SRC}${path}`) as Promise<T>;
