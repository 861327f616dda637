import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json } from "../helpers/api";

describe("HTTP skeleton", () => {
  it("answers /v1/health with the version, a request id and security headers", async () => {
    const res = await call("/v1/health");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ok: true, version: expect.any(String) });
    expect(res.headers.get("x-request-id")).toMatch(/[\w-]{8,}/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  it("returns the D1 session bookmark after a query and accepts it back", async () => {
    const user = await createUser();
    const first = await call("/v1/me", { token: user.token });
    const bookmark = first.headers.get("x-d1-bookmark");
    expect(bookmark).toBeTruthy();
    const again = await call("/v1/me", { token: user.token, headers: { "x-d1-bookmark": bookmark ?? "" } });
    expect(again.status).toBe(200);
    const garbage = await call("/v1/me", { token: user.token, headers: { "x-d1-bookmark": "not a bookmark!" } });
    expect(garbage.status).toBe(200);
  });

  it("echoes a valid incoming request id and replaces an invalid one", async () => {
    const ok = await call("/v1/health", { headers: { "x-request-id": "abc-123" } });
    expect(ok.headers.get("x-request-id")).toBe("abc-123");
    const bad = await call("/v1/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(bad.headers.get("x-request-id")).not.toBe("bad id with spaces");
  });

  it("returns problem+json 404 for an unknown route", async () => {
    const body = await expectProblem(await call("/v1/nope"), 404, "not_found");
    expect(body).toMatchObject({
      type: expect.any(String),
      title: "Not found",
      status: 404,
      detail: expect.any(String),
    });
  });

  it("returns 405 with Allow for a known path and a wrong method", async () => {
    const res = await call("/v1/health", { method: "DELETE" });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toContain("GET");
  });

  it("rejects malformed JSON with 400", async () => {
    const res = await call("/v1/auth/otp/request", {
      method: "POST",
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    await expectProblem(res, 400, "validation_failed");
  });

  it("rejects a non-JSON content type with 415", async () => {
    const res = await call("/v1/auth/otp/request", {
      method: "POST",
      rawBody: "email=a@b.c",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectProblem(res, 415, "unsupported_media_type");
  });

  it("rejects a body over the JSON limit with 413", async () => {
    const res = await call("/v1/auth/otp/request", { body: { email: `${"a".repeat(70_000)}@b.c` } });
    await expectProblem(res, 413, "payload_too_large");
  });

  it("rejects unknown body fields with 400 and names them", async () => {
    const user = await createUser();
    const res = await call("/v1/me", { method: "PATCH", token: user.token, body: { name: "Ana", context: "admin" } });
    const body = await expectProblem(res, 400, "validation_failed");
    expect(body.errors).toEqual([{ path: "context", message: "Unknown field" }]);
  });

  it("lists field problems for invalid values", async () => {
    const res = await call("/v1/auth/otp/request", { body: { email: "not-an-email" } });
    const body = await expectProblem(res, 400, "validation_failed");
    expect(body.errors).toEqual([{ path: "email", message: expect.any(String) }]);
  });

  it("returns 401 problem+json without a token and 403 for a wrong role", async () => {
    await expectProblem(await call("/v1/me"), 401, "unauthorized");
    const student = await createUser("student");
    await expectProblem(
      await call("/v1/me/context", { token: student.token, body: { context: "tutor" } }),
      403,
      "forbidden",
    );
  });

  it("serves an OpenAPI 3.1 document and the docs page", async () => {
    const res = await call("/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(res);
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/health", "/v1/auth/otp/request", "/v1/me"]));
    const docs = await call("/v1/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
  });

  it("answers CORS preflight", async () => {
    const res = await call("/v1/me", {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "GET" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});
