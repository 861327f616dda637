/**
 * Production defaults (issue 12): CORS_ORIGINS must be set explicitly in production (unset or `*`
 * is a configuration error: every request answers 500 and the log names the variable), and every
 * response carries Cross-Origin-Resource-Policy (same-origin; cross-origin for the avatar images a
 * web app on another origin embeds).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { call, env, json } from "../helpers/api";

const production = (vars: Record<string, string | undefined>) =>
  ({ ...env, ENVIRONMENT: "production", RATE_LIMITS: "on", CORS_ORIGINS: undefined, ...vars }) as Env;

async function fetchWith(bindings: Env, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://api.test${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("CORS_ORIGINS in production", () => {
  it.each([
    ["unset", undefined],
    ["empty", " "],
    ["*", "*"],
    ["* among origins", "https://app.example, *"],
  ])("%s is a configuration error naming CORS_ORIGINS", (_, value) => {
    expect(() => getConfig(production({ CORS_ORIGINS: value }))).toThrow(ConfigError);
    expect(() => getConfig(production({ CORS_ORIGINS: value }))).toThrow(/CORS_ORIGINS/);
  });

  it("refuses what is not an origin (a path, no scheme), in every environment", () => {
    for (const value of ["https://app.example/", "app.example", "https://app.example/login", "ftp://x.example"]) {
      expect(() => getConfig(production({ CORS_ORIGINS: value })), value).toThrow(/CORS_ORIGINS/);
      expect(() => getConfig({ ...env, CORS_ORIGINS: value } as Env), value).toThrow(/CORS_ORIGINS/);
    }
  });

  it("parses a comma-separated list of origins", () => {
    const config = getConfig(production({ CORS_ORIGINS: "https://app.example, http://localhost:3000" }));
    expect(config.CORS_ORIGINS).toEqual(["https://app.example", "http://localhost:3000"]);
  });

  it("defaults to * outside production", () => {
    expect(getConfig({ ...env, CORS_ORIGINS: undefined } as Env).CORS_ORIGINS).toBe("*");
  });

  it("a misconfigured production Worker answers 500 to every request and logs the variable", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const bindings = production({});
    for (const path of ["/v1/health", "/v1/tutors", "/v1/openapi.json"]) {
      const res = await fetchWith(bindings, path);
      expect(res.status, path).toBe(500);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      const problem = await json<{ code: string; detail: string }>(res);
      expect(problem.code).toBe("internal");
      expect(problem.detail).toMatch(/misconfigured/i);
      expect(problem.detail).not.toMatch(/CORS_ORIGINS/); // the setting's name is for the log, not the client
    }
    const logged = errors.mock.calls.map((args) => String(args[0]));
    expect(logged.some((line) => /misconfigured/.test(line) && /CORS_ORIGINS/.test(line))).toBe(true);
  });

  it("with explicit origins, allows those and no other", async () => {
    const bindings = production({ CORS_ORIGINS: "https://app.example,https://admin.example" });
    const preflight = (origin: string) =>
      fetchWith(bindings, "/v1/sessions", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST" },
      });
    const ok = await preflight("https://admin.example");
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://admin.example");
    expect(ok.headers.get("vary")).toMatch(/origin/i);
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const get = await fetchWith(bindings, "/v1/health", { headers: { origin: "https://app.example" } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });
});

describe("Cross-Origin-Resource-Policy", () => {
  it("is same-origin on API responses, errors included", async () => {
    for (const path of ["/v1/health", "/v1/tutors", "/v1/nope", "/v1/me"]) {
      expect((await call(path)).headers.get("cross-origin-resource-policy"), path).toBe("same-origin");
    }
  });

  it("is cross-origin on tutor avatars, which web apps on other origins embed with <img>", async () => {
    const res = await call("/v1/tutors/tut_unknown/avatar");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const nested = await call("/v1/tutors/tut_unknown/avatar/x");
    expect(nested.headers.get("cross-origin-resource-policy")).toBe("same-origin");
  });

  it("keeps the other security headers", async () => {
    const res = await call("/v1/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("strict-transport-security")).toContain("max-age=");
  });
});
