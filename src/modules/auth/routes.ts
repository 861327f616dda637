import { clientIpKey } from "../../http/client-ip";
import { createRouter, defineRoute, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { requestOtp, verifyOtp } from "./otp";
import { otpRequestBody, otpVerifyBody, refreshBody, tokenPairSchema } from "./schemas";
import { logout, logoutAll, refresh } from "./service";

const tags: ApiTag[] = ["Auth"];
export const authRoutes = createRouter();

authRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/auth/otp/request",
    summary: "E-mail a one-time login code",
    tags,
    body: otpRequestBody,
    ok: {
      status: 202,
      description: "Accepted (for every well-formed address)",
      schema: z.object({ ok: z.literal(true) }),
    },
    errors: ["rate_limited"],
  }),
  async (c) => {
    const { email } = c.req.valid("json");
    await requestOtp(c.var.svc, email, clientIpKey(c.req.raw.headers));
    return c.json({ ok: true as const }, 202);
  },
);

authRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/auth/otp/verify",
    summary: "Exchange a one-time code for tokens",
    tags,
    body: otpVerifyBody,
    ok: { status: 200, description: "Token pair", schema: tokenPairSchema },
    errors: ["unauthorized", "rate_limited"],
  }),
  async (c) => {
    const { email, code } = c.req.valid("json");
    return c.json(await verifyOtp(c.var.svc, email, code, clientIpKey(c.req.raw.headers)), 200);
  },
);

authRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/auth/refresh",
    summary: "Rotate a refresh token",
    tags,
    body: refreshBody,
    ok: { status: 200, description: "New token pair", schema: tokenPairSchema },
    errors: ["unauthorized"],
  }),
  async (c) => c.json(await refresh(c.var.svc, c.req.valid("json").refreshToken), 200),
);

authRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/auth/logout",
    summary: "Revoke a refresh token's family",
    tags,
    guard: "user",
    body: refreshBody,
    ok: { status: 204, description: "Logged out" },
  }),
  async (c) => {
    await logout(c.var.svc, c.var.auth.userId, c.req.valid("json").refreshToken);
    return c.body(null, 204);
  },
);

authRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/auth/logout-all",
    summary: "Revoke every refresh token of the caller (all sessions, all devices)",
    tags,
    guard: "user",
    ok: { status: 204, description: "Logged out everywhere" },
  }),
  async (c) => {
    await logoutAll(c.var.svc, c.var.auth.userId);
    return c.body(null, 204);
  },
);
