/**
 * Builds the back-office page (web/admin → public/admin, served by wrangler's static assets) with
 * Vite's JavaScript API, in this process: once for the e2e suite and `npm run build:admin`, in
 * watch mode for `npm run dev` (a change is rebuilt in well under a second and the next reload of
 * /admin shows it). Resolves when the first build is written, so /admin answers before the banner.
 */
import { fileURLToPath } from "node:url";
import { build } from "vite";

const configFile = fileURLToPath(new URL("../../web/admin/vite.config.ts", import.meta.url));

export interface AdminBuild {
  /** Milliseconds the first build took. */
  firstBuildMs: number;
  close(): Promise<void>;
}

export async function buildAdmin(o: { watch: boolean; log?: (m: string) => void }): Promise<AdminBuild> {
  const started = Date.now();
  if (!o.watch) {
    await build({ configFile });
    return { firstBuildMs: Date.now() - started, close: async () => {} };
  }
  const out = await build({ configFile, build: { watch: {} } });
  if (!("on" in out)) throw new Error("vite did not start in watch mode");
  const watcher = out;
  await new Promise<void>((resolve, reject) => {
    let first = true;
    watcher.on("event", (e) => {
      if (e.code === "ERROR") {
        const message = e.error instanceof Error ? e.error.message : String(e.error);
        if (first) reject(new Error(`the admin page did not build: ${message}`));
        else o.log?.(`admin page: build failed: ${message}`);
      }
      if (e.code === "BUNDLE_END") void e.result.close();
      if (e.code === "END") {
        if (first) resolve();
        else o.log?.("admin page rebuilt");
        first = false;
      }
    });
  });
  return { firstBuildMs: Date.now() - started, close: () => watcher.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const b = await buildAdmin({ watch: false });
  console.log(`admin page built into public/admin/ in ${b.firstBuildMs} ms`);
}
