import { withCaller } from "../../http/auth";
import { createRouter, defineRoute, idParamsOf, pageOf, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { listNotifications, markAllRead, markRead, unreadCountStatement } from "./service";

const tags: ApiTag[] = ["Notifications"];
export const notificationRoutes = createRouter();

const notificationSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    type: z.string(),
    data: z.record(z.string(), z.unknown()),
    read: z.boolean(),
    createdAt: z.number().int(),
  })
  .openapi("Notification");

notificationRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/notifications",
    summary: "The caller's notifications, newest first",
    tags,
    guard: "user",
    query: z.object({ ...pageQuery, unread: z.enum(["true", "false"]).optional() }),
    ok: { status: 200, description: "Notifications", schema: pageOf(notificationSchema) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json(await listNotifications(c.var.svc, c.var.auth.userId, { ...q, unread: q.unread === "true" }), 200);
  },
);

notificationRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/notifications/unread-count",
    summary: "How many notifications are unread",
    tags,
    guard: "user",
    batchedCaller: true,
    ok: { status: 200, description: "Count", schema: z.object({ count: z.number().int() }) },
  }),
  async (c) => {
    const { rows } = await withCaller<{ n: number }>(c, "user", (claims) =>
      unreadCountStatement(c.var.svc, claims.sub),
    );
    return c.json({ count: rows[0]?.n ?? 0 }, 200);
  },
);

notificationRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/notifications/read-all",
    summary: "Mark every notification read",
    tags,
    guard: "user",
    ok: { status: 204, description: "Done" },
  }),
  async (c) => {
    await markAllRead(c.var.svc, c.var.auth.userId);
    return c.body(null, 204);
  },
);

notificationRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/notifications/{id}/read",
    summary: "Mark one notification read",
    tags,
    guard: "user",
    params: idParamsOf("ntf"),
    ok: { status: 204, description: "Done" },
    errors: ["not_found"],
  }),
  async (c) => {
    await markRead(c.var.svc, c.var.auth.userId, c.req.valid("param").id);
    return c.body(null, 204);
  },
);
