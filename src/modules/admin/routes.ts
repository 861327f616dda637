/** Back-office lists that belong to no other module: users by context, dead letters. */
import { and, desc, eq } from "drizzle-orm";
import { keysetAfter } from "../../db/keyset";
import { deadLetters, users } from "../../db/schema";
import { createRouter, defineRoute, pageOf, pageQuery, z } from "../../http/openapi";
import { decodeCursor, page } from "../../lib/cursor";
import { userSchema } from "../auth/schemas";
import { publicUser } from "../auth/service";
import { replayDeadLetter } from "./dead-letters";

const tags = ["Admin"];
export const adminRoutes = createRouter();

adminRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/users",
    summary: "Users (optionally by context), newest first",
    tags,
    guard: "admin",
    query: z.object({ ...pageQuery, context: z.enum(["student", "tutor", "admin"]).optional() }),
    ok: { status: 200, description: "Users", schema: pageOf(userSchema) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
    const rows = await c.var.svc.db
      .select()
      .from(users)
      .where(and(q.context ? eq(users.context, q.context) : undefined, keysetAfter(users.createdAt, users.id, after)))
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(q.limit + 1);
    return c.json(
      page(rows, q.limit, publicUser, (u) => [u.createdAt, u.id]),
      200,
    );
  },
);

adminRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/dead-letters",
    summary: "Queue messages that could not be processed",
    tags,
    guard: "admin",
    query: z.object(pageQuery),
    ok: {
      status: 200,
      description: "Dead letters, newest first",
      schema: pageOf(
        z.object({
          id: z.string(),
          messageId: z.string(),
          queue: z.string(),
          type: z.string().nullable(),
          body: z.string(),
          attempts: z.number().int(),
          createdAt: z.number().int(),
          replayedAt: z.number().int().nullable(),
          replayCount: z.number().int(),
        }),
      ),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
    const rows = await c.var.svc.db
      .select()
      .from(deadLetters)
      .where(keysetAfter(deadLetters.createdAt, deadLetters.id, after))
      .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
      .limit(q.limit + 1);
    return c.json(
      page(
        rows,
        q.limit,
        (r) => r,
        (r) => [r.createdAt, r.id],
      ),
      200,
    );
  },
);

adminRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/dead-letters/{id}/replay",
    summary: "Re-enqueue a dead letter's job (jobs are idempotent: a replayed fulfilment credits at most once)",
    tags,
    guard: "admin",
    params: z.object({ id: z.string().min(1).max(100) }),
    ok: {
      status: 202,
      description: "Re-enqueued",
      schema: z.object({
        id: z.string(),
        type: z.string(),
        replayedAt: z.number().int(),
        replayCount: z.number().int(),
      }),
    },
    errors: [404, 409],
  }),
  async (c) => c.json(await replayDeadLetter(c.var.svc, c.req.valid("param").id), 202),
);
