/** Every admin route: anonymous 401, student and tutor tokens 403, a demoted admin 403, an admin not refused. */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem } from "../helpers/api";

const routes: [method: string, path: string, body?: unknown][] = [
  ["GET", "/v1/admin/users"],
  ["GET", "/v1/admin/sessions"],
  ["GET", "/v1/admin/recordings"],
  ["POST", "/v1/admin/recordings/rec_missing/retry"],
  ["GET", "/v1/admin/webhooks/deepgram?requestId=r"],
  ["GET", "/v1/admin/dead-letters"],
  ["GET", "/v1/admin/users/usr_missing/ledger"],
  ["POST", "/v1/admin/subjects", { name: "Matrix", slug: `matrix-${crypto.randomUUID().slice(0, 8)}` }],
  ["POST", "/v1/admin/credits/adjustments", { userId: "usr_missing", type: "credit", amount: 1, description: "x" }],
];

describe("admin authorization matrix", () => {
  it("refuses anonymous (401), students and tutors (403) and demoted admins (403) on every admin route", async () => {
    const student = await createUser("student");
    const tutor = await createUser("tutor");
    const demoted = await createUser("admin");
    await env.DB.prepare("UPDATE users SET context = 'student' WHERE id = ?").bind(demoted.id).run();
    const admin = await createUser("admin");
    for (const [method, path, body] of routes) {
      await expectProblem(await call(path, { method, body }), 401, "unauthorized");
      for (const token of [student.token, tutor.token, demoted.token]) {
        await expectProblem(await call(path, { method, body, token }), 403, "forbidden");
      }
      const res = await call(path, { method, body, token: admin.token });
      expect([200, 201, 404], `${method} ${path}`).toContain(res.status);
    }
  });
});
