/**
 * The back-office page's build: Vite bundles web/admin into public/admin/, which the Worker serves
 * as static assets at /admin (wrangler.toml [assets]). Preact's JSX is compiled by Vite's own
 * transformer (oxc), so no framework plugin is needed. `npm run build:admin` builds once;
 * `npm run dev` and the e2e suite build through tools/offline/admin-build.ts (watch mode in dev).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/admin/",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../../public/admin/", import.meta.url)),
    emptyOutDir: true,
    // no inline polyfill script: the page's CSP is script-src 'self'
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: true,
    reportCompressedSize: false,
  },
});
