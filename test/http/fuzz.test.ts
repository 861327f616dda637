/**
 * Route fuzzing: every operation of the served OpenAPI document, hit with hostile header values,
 * content types and bodies. Whatever a client sends, the answer is never a 5xx, and every error is
 * problem+json. Bounded (a fixed number of runs) so it stays well under a minute in CI.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createUser, json } from "../helpers/api";

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

const contentTypes = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json;",
    "application/json; charset",
    "application/json;charset=utf-8;",
    "APPLICATION/JSON ; charset=utf-8",
    "application/x_y+json",
    "application/vnd.api+json",
    "application/merge-patch+json; charset=UTF-8",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "audio/wav",
    "image/png",
    ";",
    "/",
    "",
  ),
  printable,
);

const bodies = fc.oneof(
  fc.constantFrom(
    "",
    "{",
    "}",
    "null",
    "[]",
    "0",
    '"x"',
    "{}",
    '{"a":1}',
    '{"__proto__":{"x":1}}',
    "[".repeat(2000),
    "1e999",
  ),
  fc.json({ maxDepth: 3 }),
  fc.uint8Array({ maxLength: 64 }).map((b) => new Uint8Array(b)),
  printable,
);

const headerValues = {
  "if-none-match": fc.oneof(fc.constantFrom("garbage", '"', "*", 'W/"x"', '"a", W/"b"', ",,,"), printable),
  "idempotency-key": fc.oneof(fc.constantFrom("", "k", "x".repeat(300)), printable),
  "x-d1-bookmark": fc.oneof(fc.constantFrom("", "not-a-bookmark", "0000"), printable),
  "x-request-id": printable,
  "content-length": fc.constantFrom("0", "-1", "abc", "99999999999999999999"),
  "stripe-signature": fc.oneof(fc.constantFrom("t=1,v1=00", "garbage", ""), printable),
};

describe("route fuzzing (never a 5xx)", () => {
  it("answers every operation, whatever the headers, content type and body, with a 2xx-4xx", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await call("/v1/openapi.json"));
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })),
    );
    expect(ops.length).toBeGreaterThan(40);
    const admin = await createUser("admin");
    const student = await createUser("student");
    const tokens = ["", `Bearer ${admin.token}`, `Bearer ${student.token}`, "Bearer a.b.c", "Basic eA=="];
    let count = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ops),
        fc.oneof(
          fc.constantFrom("x_missing", "%00", "..", "a".repeat(300), "%E2%80%AE"),
          printable.map(encodeURIComponent),
        ),
        fc.option(contentTypes, { nil: undefined }),
        fc.option(bodies, { nil: undefined }),
        fc.constantFrom(...tokens),
        fc.subarray(Object.keys(headerValues) as (keyof typeof headerValues)[]),
        fc.record(headerValues),
        async (op, param, contentType, body, auth, picked, values) => {
          const headers: Record<string, string> = {};
          if (contentType !== undefined) headers["content-type"] = contentType;
          if (auth) headers.authorization = auth;
          for (const h of picked) headers[h] = values[h];
          const path = op.path.replace(/\{[^}]+\}/g, param || "x");
          const method = op.method;
          const sendsBody = body !== undefined && method !== "GET" && method !== "HEAD";
          if (!sendsBody) delete headers["content-length"];
          const res = await call(path, { method, headers, rawBody: sendsBody ? body : undefined });
          count++;
          const where = `${method} ${path} ${JSON.stringify(headers)} body=${typeof body === "string" ? body.slice(0, 60) : typeof body}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) expect(res.headers.get("content-type"), where).toContain("application/problem+json");
          await res.body?.cancel();
        },
      ),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    expect(count).toBe(400);
  }, 60_000);

  it("the framework's 415 and malformed conditional reads are 4xx problems (regressions)", async () => {
    for (const type of [
      "application/json;",
      "application/json; charset",
      "application/json;charset=utf-8;",
      "APPLICATION/JSON ; charset=utf-8",
      "application/x_y+json",
    ]) {
      const res = await call("/v1/auth/otp/request", {
        method: "POST",
        headers: { "content-type": type },
        rawBody: '{"email":"a@b.test"}',
      });
      expect(res.status, type).toBe(415);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });
});
