/** Tutor approval for admins: the profiles by status and the status change (approval.ts). */

import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { adminTutorListQuery, adminTutorPageSchema, adminTutorSchema, tutorStatusBody } from "./admin-schemas";
import { listTutorsByStatus, setTutorStatus } from "./approval";
import { tutorIdParams } from "./schemas";

const tags: ApiTag[] = ["Admin"];
export const adminTutorRoutes = createRouter();

adminTutorRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/tutors",
    summary: "Tutor profiles with one status (pending oldest first, the others newest first)",
    tags,
    guard: "admin",
    query: adminTutorListQuery,
    ok: { status: 200, description: "A page of tutor profiles", schema: adminTutorPageSchema },
  }),
  async (c) => c.json(await listTutorsByStatus(c.var.svc, c.req.valid("query")), 200),
);

adminTutorRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/tutors/{id}/status",
    summary: "Approve, reject or suspend a tutor (the tutor is notified; booked sessions stay)",
    tags,
    guard: "admin",
    params: tutorIdParams,
    body: tutorStatusBody,
    ok: { status: 200, description: "The tutor profile with its status", schema: adminTutorSchema },
    errors: ["not_found", "conflict"],
  }),
  async (c) =>
    c.json(await setTutorStatus(c.var.svc, c.var.auth.userId, c.req.valid("param").id, c.req.valid("json")), 200),
);
