import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json, tokenFor } from "../helpers/api";
import { insertSubject, uniqueSlug } from "../tutors/fixtures";

interface Subject {
  id: string;
  name: string;
  slug: string;
  createdAt: number;
}

describe("GET /v1/subjects", () => {
  it("lists every subject by name to anyone, in one page", async () => {
    const zulu = await insertSubject("Zulu grammar");
    const algebra = await insertSubject("Algebra basics");
    const res = await call("/v1/subjects");
    expect(res.status).toBe(200);
    const body = await json<{ items: Subject[]; nextCursor: null }>(res);
    expect(body.nextCursor).toBeNull();
    const names = body.items.map((s) => s.name);
    expect(names).toEqual([...names].sort());
    const ids = body.items.map((s) => s.id);
    expect(ids.indexOf(algebra.id)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(algebra.id)).toBeLessThan(ids.indexOf(zulu.id));
    expect(body.items.find((s) => s.id === zulu.id)).toEqual({ ...zulu, createdAt: expect.any(Number) });
  });
});

describe("POST /v1/admin/subjects", () => {
  const body = () => ({ name: "Organic chemistry", slug: uniqueSlug("organic-chemistry") });

  it("creates a subject for an admin (201) that then appears in the list", async () => {
    const admin = await createUser("admin");
    const input = body();
    const res = await call("/v1/admin/subjects", { token: admin.token, body: input });
    expect(res.status).toBe(201);
    const created = await json<Subject>(res);
    expect(created).toEqual({ id: expect.any(String), ...input, createdAt: expect.any(Number) });
    const list = await json<{ items: Subject[] }>(await call("/v1/subjects"));
    expect(list.items).toContainEqual(created);
  });

  it("enforces the authorisation matrix: anonymous 401, student 403, tutor 403, admin 201", async () => {
    await expectProblem(await call("/v1/admin/subjects", { body: body() }), 401, "unauthorized");
    const student = await createUser("student");
    await expectProblem(await call("/v1/admin/subjects", { token: student.token, body: body() }), 403, "forbidden");
    const tutorToken = await tokenFor(student.id, "tutor");
    await expectProblem(await call("/v1/admin/subjects", { token: tutorToken, body: body() }), 403, "forbidden");
    const admin = await createUser("admin");
    expect((await call("/v1/admin/subjects", { token: admin.token, body: body() })).status).toBe(201);
  });

  it("re-checks the admin context in the database: an admin-role token of a student is 403", async () => {
    const student = await createUser("student");
    const forged = await tokenFor(student.id, "admin");
    await expectProblem(await call("/v1/admin/subjects", { token: forged, body: body() }), 403, "forbidden");
  });

  it("rejects a duplicate slug with 409", async () => {
    const admin = await createUser("admin");
    const input = body();
    expect((await call("/v1/admin/subjects", { token: admin.token, body: input })).status).toBe(201);
    const again = await call("/v1/admin/subjects", { token: admin.token, body: { ...input, name: "Another name" } });
    await expectProblem(again, 409, "conflict");
  });

  it("rejects invalid input with 400 and field errors", async () => {
    const admin = await createUser("admin");
    for (const slug of ["Upper-Case", "with space", "-leading", "trailing-", "double--hyphen", "", "a".repeat(65)]) {
      const res = await call("/v1/admin/subjects", { token: admin.token, body: { name: "X", slug } });
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(problem.errors, slug).toContainEqual({ path: "slug", message: expect.any(String) });
    }
    const noName = await call("/v1/admin/subjects", { token: admin.token, body: { name: "  ", slug: uniqueSlug() } });
    expect((await expectProblem(noName, 400, "validation_failed")).errors).toContainEqual({
      path: "name",
      message: expect.any(String),
    });
    const unknown = await call("/v1/admin/subjects", { token: admin.token, body: { ...body(), id: "sub_mine" } });
    expect((await expectProblem(unknown, 400, "validation_failed")).errors).toEqual([
      { path: "id", message: "Unknown field" },
    ]);
  });

  it("rejects a non-JSON body with 415", async () => {
    const admin = await createUser("admin");
    const res = await call("/v1/admin/subjects", {
      method: "POST",
      token: admin.token,
      rawBody: "name=x&slug=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await expectProblem(res, 415, "unsupported_media_type");
  });
});
