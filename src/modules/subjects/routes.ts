import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { createSubjectBody, subjectListSchema, subjectSchema } from "./schemas";
import { createSubject, listSubjects } from "./service";

const tags: ApiTag[] = ["Subjects"];
export const subjectRoutes = createRouter();

subjectRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/subjects",
    summary: "All subjects, by name",
    tags,
    ok: { status: 200, description: "Every subject (one page)", schema: subjectListSchema },
  }),
  async (c) => c.json({ items: await listSubjects(c.var.svc), nextCursor: null }, 200),
);

subjectRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/subjects",
    summary: "Create a subject",
    tags: ["Admin", ...tags],
    guard: "admin",
    body: createSubjectBody,
    ok: { status: 201, description: "The new subject", schema: subjectSchema },
    errors: ["conflict"],
  }),
  async (c) => c.json(await createSubject(c.var.svc, c.var.auth.userId, c.req.valid("json")), 201),
);
