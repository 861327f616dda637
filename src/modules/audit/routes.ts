/** GET /v1/admin/audit-log: what admins did (rows are written by the actions themselves, see store.ts). */
import { createRouter, defineRoute } from "../../http/openapi";
import { listAuditLog } from "./list";
import { auditLogPage, auditLogQuery } from "./schemas";

export const auditRoutes = createRouter();

auditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/audit-log",
    summary: "Admin actions, newest first, optionally by actor or target (append-only)",
    tags: ["Admin"],
    guard: "admin",
    query: auditLogQuery,
    ok: { status: 200, description: "Audit rows", schema: auditLogPage },
  }),
  async (c) => c.json(await listAuditLog(c.var.svc, c.req.valid("query")), 200),
);
