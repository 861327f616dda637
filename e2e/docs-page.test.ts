/**
 * The API reference page works offline: headless Chromium opens /v1/docs with every request outside
 * the API's origin blocked, and every operation of the served OpenAPI document must be listed.
 * Leaves a screenshot at e2e/artifacts/docs-page.png (gitignored). Chromium comes from the system
 * (`apt-get install -y chromium`; `.ci/run` installs it), or from `CHROMIUM_PATH`.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { describe, it } from "node:test";
import { ARTIFACTS, assertStrictScriptCsp, launchChromium, watchPage } from "./browser.ts";
import { c } from "./helpers.ts";

const SCREENSHOT = new URL("docs-page.png", ARTIFACTS);

interface OpenApiDocument {
  paths: Record<string, Record<string, { summary?: string }>>;
}

describe("API reference page (/v1/docs)", () => {
  it("lists every operation of the OpenAPI document with nothing loaded from outside the API's origin", async () => {
    const page0 = await fetch(`${c.apiUrl}/v1/docs`);
    assert.equal(page0.status, 200);
    assertStrictScriptCsp(page0.headers.get("content-security-policy") ?? "", "the docs page");
    const bundle = await fetch(`${c.apiUrl}/api-reference/standalone.js`, { method: "HEAD" });
    assert.equal(bundle.status, 200, "public/api-reference/standalone.js is missing: run npm install (postinstall)");

    const doc = await c.ok<OpenApiDocument>("/v1/openapi.json", { direct: true });
    const summaries = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.summary ?? ""));
    assert.ok(summaries.length >= 40, `only ${summaries.length} operations in the document`);
    assert.deepEqual(
      summaries.filter((s) => s === ""),
      [],
      "every operation has a summary",
    );

    const origin = new URL(c.apiUrl).origin;
    const started = Date.now();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const { blocked, problems } = await watchPage(page, origin);

      const res = await page.goto(`${c.apiUrl}/v1/docs`);
      assert.equal(res?.status(), 200);
      // the reference renders once its bundle ran and the document arrived
      await page
        .getByText(summaries[0] as string, { exact: true })
        .first()
        .waitFor({ timeout: 30_000 });
      const notListed: string[] = [];
      for (const summary of summaries) {
        if (!(await page.getByText(summary, { exact: true }).first().isVisible())) notListed.push(summary);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT.pathname });
      console.log(
        `docs page: ${summaries.length - notListed.length}/${summaries.length} operations listed, ` +
          `${blocked.length} outside requests blocked, ${Date.now() - started} ms; screenshot ${SCREENSHOT.pathname}`,
      );
      assert.deepEqual(notListed, [], `operations not listed on /v1/docs: ${notListed.join(" | ")}`);
      assert.deepEqual(blocked, [], "the docs page asked for something outside the API's origin");
      assert.deepEqual(problems, [], "the docs page had errors");
    } finally {
      await browser.close();
    }
  });
});
