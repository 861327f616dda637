/**
 * Shared by the browser tests (e2e/docs-page.test.ts, e2e/serial/admin-page.test.ts): the system's
 * headless Chromium driven by playwright-core, a page that may not leave the API's origin and whose
 * every error is kept, the CSP check, and an axe-core pass. Chromium comes from the system
 * (`apt-get install -y chromium`; `.ci/run` installs it), or from `CHROMIUM_PATH`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots and other files for people to look at (gitignored). */
export const ARTIFACTS = new URL("./artifacts/", import.meta.url);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Chromium refuses to run as root (as CI does) inside its sandbox
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
}

export interface Watch {
  /** Requests for another origin, aborted before they left. */
  blocked: string[];
  /** Console errors, uncaught page errors, failed requests and answers ≥ 400, in order. */
  problems: string[];
}

/**
 * Aborts every request outside `origin` (the page must work offline) and records everything that
 * went wrong on `page`, to be asserted once at the end, so one failure message lists them all.
 */
export async function watchPage(page: Page, origin: string): Promise<Watch> {
  const w: Watch = { blocked: [], problems: [] };
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    w.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  page.on("pageerror", (err) => w.problems.push(`page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") w.problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  page.on("requestfailed", (r) => {
    // the blocked ones are listed apart
    if (new URL(r.url()).origin === origin) {
      w.problems.push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText ?? "?"})`);
    }
  });
  page.on("response", (r) => {
    if (r.status() >= 400) w.problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return w;
}

/** A CSP whose scripts come only from the page's own origin: no other origin anywhere, no inline script. */
export function assertStrictScriptCsp(csp: string, what: string) {
  const script = csp
    .split(";")
    .map((d) => d.trim())
    .find((d) => d.startsWith("script-src "));
  assert.equal(script, "script-src 'self'", `${what}'s CSP allows scripts from elsewhere or inline: ${csp}`);
  assert.doesNotMatch(csp, /https?:|\*/, `${what}'s CSP names another origin: ${csp}`);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeFinding {
  page: string;
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core on the page as rendered now and returns its serious and critical violations, named
 * by `label`. Injected with `evaluate` (a page with a strict CSP refuses an added script tag;
 * evaluate is the debugger's and not subject to it); once per document, hash routes keep it.
 */
export async function axeSerious(page: Page, label: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate<boolean>("typeof axe !== 'undefined'"))) await page.evaluate(AXE_SOURCE);
  // a string: it runs in the page (this file is compiled without the DOM's types)
  const violations = await page.evaluate<{ id: string; impact: string; help: string; targets: string[] }[]>(`
    axe.run(document, { resultTypes: ["violations"] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? "",
        help: v.help,
        targets: v.nodes.map((n) => n.target.map(String).join(" ")),
      })),
    )`);
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ page: label, ...v }));
}
