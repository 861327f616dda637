/** Each route's error codes are declared once (defineRoute's `errors`) and documented per status. */
import { describe, expect, it } from "vitest";
import { errorStatus } from "../../src/http/errors";
import { call, json } from "../helpers/api";

type Responses = Record<
  string,
  { content?: Record<string, { schema?: { allOf?: { properties?: { code?: { enum?: string[] } } }[] } }> }
>;

describe("error codes in the OpenAPI document", () => {
  it("lists, for every error status of every operation, the codes that map to that status", async () => {
    const doc = await json<{ paths: Record<string, Record<string, { responses: Responses }>> }>(
      await call("/v1/openapi.json"),
    );
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, res] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          const codes = res.content?.["application/problem+json"]?.schema?.allOf?.[1]?.properties?.code?.enum;
          expect(codes?.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
          for (const code of codes ?? []) {
            expect(errorStatus[code as keyof typeof errorStatus], `${method} ${path} ${code}`).toBe(Number(status));
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    const booking = doc.paths["/v1/sessions"]?.post?.responses["409"];
    expect(booking?.content?.["application/problem+json"]?.schema?.allOf?.[1]?.properties?.code?.enum).toEqual([
      "slot_unavailable",
      "conflict",
    ]);
  });
});
