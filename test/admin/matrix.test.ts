/**
 * The admin authorization matrix, generated from the served OpenAPI document: every operation under
 * /v1/admin (or tagged Admin) must declare bearer auth and answer anonymous 401, student / tutor /
 * demoted-admin tokens 403, and an admin anything but 401/403/5xx. A new admin route added without
 * its guard fails here without anyone editing a list.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json } from "../helpers/api";

interface Operation {
  tags?: string[];
  security?: unknown[];
  requestBody?: unknown;
}

async function adminOperations() {
  const doc = await json<{ paths: Record<string, Record<string, Operation>> }>(await call("/v1/openapi.json"));
  const ops: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (path.startsWith("/v1/admin/") || op.tags?.includes("Admin")) {
        ops.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, "x_missing"), op });
      }
    }
  }
  return ops;
}

describe("admin authorization matrix (from the OpenAPI document)", () => {
  it("covers a non-trivial set of admin operations, each declaring bearer auth", async () => {
    const ops = await adminOperations();
    expect(ops.length).toBeGreaterThanOrEqual(12);
    for (const { method, path, op } of ops) {
      expect(op.security, `${method} ${path}`).toEqual([{ bearerAuth: expect.any(Array) }]);
    }
  });

  it("refuses anonymous (401), students and tutors (403) and demoted admins (403) on every admin operation", async () => {
    const student = await createUser("student");
    const tutor = await createUser("tutor");
    const demoted = await createUser("admin");
    await env.DB.prepare("UPDATE users SET context = 'student' WHERE id = ?").bind(demoted.id).run();
    const admin = await createUser("admin");
    for (const { method, path, op } of await adminOperations()) {
      // an empty JSON object: the guard answers before the body is validated
      const body = op.requestBody ? {} : undefined;
      const where = `${method} ${path}`;
      await expectProblem(await call(path, { method, body }), 401, "unauthorized").catch((e) => {
        throw new Error(`${where}: ${e.message}`);
      });
      for (const token of [student.token, tutor.token, demoted.token]) {
        await expectProblem(await call(path, { method, body, token }), 403, "forbidden").catch((e) => {
          throw new Error(`${where}: ${e.message}`);
        });
      }
      const res = await call(path, { method, body, token: admin.token });
      expect([401, 403], where).not.toContain(res.status);
      expect(res.status, where).toBeLessThan(500);
    }
  });
});
