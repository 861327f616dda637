import { createRouter, defineRoute, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { humanText } from "../../lib/text";
import { tokenPairSchema, userSchema } from "../auth/schemas";
import { publicUser } from "../auth/service";
import { closeAccount } from "./close-account";
import { exportStream } from "./export";
import { exportSchema } from "./schemas";
import { renameMe, switchContext } from "./service";

const tags: ApiTag[] = ["Me"];
export const userRoutes = createRouter();

userRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me",
    summary: "The caller",
    tags,
    guard: "user",
    ok: { status: 200, description: "The caller", schema: userSchema },
  }),
  async (c) => c.json(publicUser(c.var.auth.user), 200),
);

userRoutes.openapi(
  defineRoute({
    method: "patch",
    path: "/v1/me",
    summary: "Update the caller's name",
    tags,
    guard: "user",
    body: z.strictObject({ name: humanText({ min: 1, max: 100, name: true }).optional() }),
    ok: { status: 200, description: "The updated user", schema: userSchema },
  }),
  async (c) => c.json(await renameMe(c.var.svc, c.var.auth, c.req.valid("json").name), 200),
);

userRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/me/context",
    summary: "Switch between student and tutor",
    tags,
    guard: "user",
    body: z.strictObject({ context: z.enum(["student", "tutor"]) }),
    errors: ["forbidden"],
    ok: { status: 200, description: "A token pair for the new context", schema: tokenPairSchema },
  }),
  async (c) => c.json(await switchContext(c.var.svc, c.var.auth, c.req.valid("json").context), 200),
);

userRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/export",
    summary: "Everything stored about the caller (data-access request)",
    tags,
    guard: "user",
    ok: {
      status: 200,
      description:
        "One JSON document, streamed (a document cut short by a failure is invalid JSON). Secrets are left out.",
      schema: exportSchema,
    },
  }),
  async (c) =>
    c.body(exportStream(c.var.svc, c.var.auth.userId), 200, {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": 'attachment; filename="tutorloop-export.json"',
      "cache-control": "no-store",
    }),
);

userRoutes.openapi(
  defineRoute({
    method: "delete",
    path: "/v1/me",
    summary: "Close the caller's account",
    tags,
    guard: "user",
    ok: {
      status: 204,
      description:
        "Closed: future sessions cancelled with full refunds, tutor profile suspended, tokens revoked, personal data erased or pseudonymized",
    },
  }),
  async (c) => {
    await closeAccount(c.var.svc, c.var.auth.userId);
    return c.body(null, 204);
  },
);
