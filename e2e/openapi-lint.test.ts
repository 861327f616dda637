/**
 * The served OpenAPI document passes the linters third-party tools apply: Redocly's recommended
 * rules (config: redocly.yaml) with no error and no warning, and Spectral's `spectral:oas` ruleset
 * (config: .spectral.yaml) with no error. Both run as their CLIs on the document the Worker serves,
 * so what is checked is what clients download; the document is left at e2e/artifacts/openapi.json.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ROOT } from "../tools/offline/stack.ts";
import { ARTIFACTS } from "./browser.ts";
import { c } from "./helpers.ts";

const run = promisify(execFile);
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);

describe("the OpenAPI document under third-party linters", () => {
  // kept as a test artifact: a failure can be read against the very document that failed
  const file = fileURLToPath(new URL("openapi.json", ARTIFACTS));
  before(async () => {
    mkdirSync(new URL(".", ARTIFACTS), { recursive: true });
    writeFileSync(file, JSON.stringify(await c.ok<unknown>("/v1/openapi.json", { direct: true }), null, 2));
  });

  it("redocly lint (recommended): 0 errors, 0 warnings", async () => {
    const out = await run(bin("redocly"), ["lint", file, "--format", "json", "--config", join(ROOT, "redocly.yaml")], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? "", stderr: e.stderr ?? "" }));
    const report = JSON.parse(out.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
    };
    const listed = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`).slice(0, 20);
    assert.deepEqual(report.totals.errors + report.totals.warnings, 0, listed.join("\n"));
  });

  it("spectral lint (spectral:oas): 0 errors, 0 warnings", async () => {
    const out = await run(
      bin("spectral"),
      ["lint", file, "--ruleset", join(ROOT, ".spectral.yaml"), "--format", "json", "--quiet"],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "[]" }));
    const results = JSON.parse(out.stdout || "[]") as {
      code: string;
      severity: number;
      path: string[];
      message: string;
    }[];
    // severity 0 = error, 1 = warning
    const errors = results.filter((r) => r.severity === 0);
    const warnings = results.filter((r) => r.severity === 1);
    const listed = [...errors, ...warnings].map((r) => `${r.code} ${r.path.join(".")}: ${r.message}`).slice(0, 20);
    assert.equal(errors.length, 0, listed.join("\n"));
    assert.equal(warnings.length, 0, listed.join("\n"));
  });
});
