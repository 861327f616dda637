import { eq } from "drizzle-orm";
import { users } from "../../db/schema";
import { ApiError } from "../../http/errors";
import { createRouter, defineRoute, z } from "../../http/openapi";
import { tokenPairSchema, userSchema } from "../auth/schemas";
import { issueTokens, publicUser } from "../auth/service";

const tags = ["Me"];
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
    body: z.strictObject({ name: z.string().trim().min(1).max(100).optional() }),
    ok: { status: 200, description: "The updated user", schema: userSchema },
  }),
  async (c) => {
    const { name } = c.req.valid("json");
    const { svc, auth } = c.var;
    if (name === undefined) return c.json(publicUser(auth.user), 200);
    const [user] = await svc.db
      .update(users)
      .set({ name, updatedAt: svc.clock.now() })
      .where(eq(users.id, auth.userId))
      .returning();
    if (!user) throw new ApiError("unauthorized", "Invalid or expired access token");
    return c.json(publicUser(user), 200);
  },
);

userRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/me/context",
    summary: "Switch between student and tutor",
    tags,
    guard: "user",
    body: z.strictObject({ context: z.enum(["student", "tutor"]) }),
    errors: [403],
    ok: { status: 200, description: "A token pair for the new context", schema: tokenPairSchema },
  }),
  async (c) => {
    const { context } = c.req.valid("json");
    const { svc, auth } = c.var;
    if (context === "tutor" && !auth.user.tutorProfileId) {
      throw new ApiError("forbidden", "Create a tutor profile first");
    }
    if (context === "student" && !auth.user.studentProfileId) {
      throw new ApiError("forbidden", "This account has no student profile");
    }
    const [user] = await svc.db
      .update(users)
      .set({ context, updatedAt: svc.clock.now() })
      .where(eq(users.id, auth.userId))
      .returning();
    if (!user) throw new ApiError("unauthorized", "Invalid or expired access token");
    return c.json(await issueTokens(svc, user), 200);
  },
);
