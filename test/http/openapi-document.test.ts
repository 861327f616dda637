/**
 * The OpenAPI document as third-party tools read it (issue 18, part 2): stable unique operation
 * ids, declared tags with descriptions, an explicit security requirement on every operation, the
 * `Idempotency-Key` header on the routes that honour it, examples for required parameters, the
 * response headers the API sends, and provider callbacks' bodies as objects (a validating proxy
 * refuses a real event typed as a string).
 * The linters themselves run on the served document in e2e/openapi-lint.test.ts.
 */
import { describe, expect, it } from "vitest";
import { operationIdOf } from "../../src/http/openapi-document";
import { call, json } from "../helpers/api";

interface Op {
  operationId?: string;
  tags?: string[];
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; example?: unknown; schema?: { example?: unknown } }[];
  requestBody?: { content: Record<string, { schema: { type?: string } }> };
  responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: Record<string, unknown> }>;
}
interface Doc {
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Op>>;
}

const operations = async () => {
  const doc = await json<Doc>(await call("/v1/openapi.json"));
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op })),
  );
  return { doc, ops };
};

describe("the OpenAPI document", () => {
  it("derives operation ids from method and path, unique across the document", async () => {
    expect(operationIdOf("get", "/v1/admin/sessions/{id}/ledger")).toBe("getAdminSessionsByIdLedger");
    expect(operationIdOf("post", "/v1/me/context")).toBe("postMeContext");
    expect(operationIdOf("get", "/v1/calendar/{token}.ics")).toBe("getCalendarByTokenIcs");
    const { ops } = await operations();
    expect(ops.length).toBeGreaterThan(80);
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of ops) expect(o.op.operationId, o.key).toMatch(/^[a-z][A-Za-z0-9]+$/);
  });

  it("declares every tag an operation uses, each with a description, and every operation has one", async () => {
    const { doc, ops } = await operations();
    const declared = new Map(doc.tags.map((t) => [t.name, t.description]));
    for (const o of ops) {
      expect(o.op.tags?.length, o.key).toBeGreaterThan(0);
      for (const t of o.op.tags ?? []) expect(declared.get(t), `${o.key} tag ${t}`).toBeTruthy();
    }
  });

  it("gives every operation a security requirement: [] for the public ones, and a description saying who may call it", async () => {
    const { ops } = await operations();
    for (const o of ops) expect(Array.isArray(o.op.security), o.key).toBe(true);
    const health = ops.find((o) => o.key === "GET /v1/health");
    expect(health?.op.security).toEqual([]);
    expect(health?.op.description).toMatch(/No bearer token/);
    const adjust = ops.find((o) => o.key === "POST /v1/admin/credits/adjustments");
    expect(adjust?.op.security).toEqual([{ bearerAuth: ["admin"] }]);
    expect(adjust?.op.description).toMatch(/an admin.*Idempotency-Key/s);
  });

  it("declares Idempotency-Key on exactly the routes that honour it", async () => {
    const { ops } = await operations();
    const withKey = ops
      .filter((o) => (o.op.parameters ?? []).some((p) => p.in === "header" && p.name === "idempotency-key"))
      .map((o) => o.key)
      .sort();
    expect(withKey).toEqual(
      [
        "POST /v1/admin/credits/adjustments",
        "POST /v1/admin/credits/orders/{id}/refund",
        "POST /v1/admin/payouts/run",
        "POST /v1/admin/sessions/{id}/resolve",
        "POST /v1/admin/webhook-endpoints",
        "POST /v1/admin/webhook-endpoints/{id}/rotate-secret",
        "POST /v1/credits/checkout",
        "POST /v1/sessions",
        "POST /v1/sessions/series",
        "POST /v1/sessions/{id}/reschedule",
      ].sort(),
    );
  });

  it("describes every outgoing webhook event under the top-level webhooks, its data in the API's own schema", async () => {
    const doc = (await (await call("/v1/openapi.json")).json()) as {
      webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: { $ref: string } }> } } }>;
      components: { schemas: Record<string, { properties: Record<string, { $ref?: string; enum?: string[] }> }> };
    };
    const { webhookEventTypes } = await import("../../src/db/schema");
    expect(Object.keys(doc.webhooks).sort()).toEqual([...webhookEventTypes].sort());
    const schemaOf = (type: string) => {
      const ref = doc.webhooks[type]?.post.requestBody.content["application/json"]?.schema.$ref ?? "";
      return doc.components.schemas[ref.replace("#/components/schemas/", "")];
    };
    expect(schemaOf("session.booked")?.properties.data?.$ref).toBe("#/components/schemas/Session");
    expect(schemaOf("payout.failed")?.properties.data?.$ref).toBe("#/components/schemas/AdminPayout");
    expect(schemaOf("review.created")?.properties.type?.enum).toEqual(["review.created"]);
  });

  it("declares the response headers the API sends: x-request-id everywhere, Retry-After on 429, ETag and 304 on the avatar", async () => {
    const { ops } = await operations();
    for (const o of ops) {
      for (const [status, r] of Object.entries(o.op.responses)) {
        expect(r.headers?.["x-request-id"], `${o.key} ${status}`).toEqual({ $ref: "#/components/headers/RequestId" });
        if (status === "429") expect(r.headers?.["retry-after"], o.key).toBeDefined();
      }
    }
    const avatar = ops.find((o) => o.key === "GET /v1/tutors/{id}/avatar");
    expect(avatar?.op.responses["304"]?.headers?.etag).toBeDefined();
    expect(Object.keys(avatar?.op.responses["200"]?.content ?? {})).toEqual(["image/png", "image/jpeg", "image/webp"]);
  });

  it("gives every required parameter an example (tools that call each operation need one)", async () => {
    const { ops } = await operations();
    const missing = ops.flatMap((o) =>
      (o.op.parameters ?? [])
        .filter((p) => p.required && p.example === undefined && p.schema?.example === undefined)
        .map((p) => `${o.key} ${p.in}:${p.name}`),
    );
    expect(missing).toEqual([]);
    const session = ops.find((o) => o.key === "GET /v1/sessions/{id}");
    expect(session?.op.parameters?.find((p) => p.name === "id")?.schema?.example).toMatch(/^ses_/);
  });

  it("types provider callbacks' JSON bodies as objects and uploads as binary", async () => {
    const { ops } = await operations();
    const stripe = ops.find((o) => o.key === "POST /v1/webhooks/stripe");
    expect(stripe?.op.requestBody?.content["application/json"]?.schema.type).toBe("object");
    const upload = ops.find((o) => o.op.requestBody?.content["audio/*"]);
    expect(upload?.op.requestBody?.content["audio/*"]?.schema).toEqual({ type: "string", format: "binary" });
  });
});
