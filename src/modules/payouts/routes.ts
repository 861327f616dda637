/**
 * Tutor payouts over HTTP: the tutor's Stripe Connect onboarding and payout list (tutor role only:
 * 403 otherwise), the admin's list, the tutors due a payout and the manual run.
 */

import { createRouter, defineRoute, pageOf, pageQuery, z } from "../../http/openapi";
import { type ApiTag, commonResponseHeaders } from "../../http/openapi-document";
import { getPayoutAccount, openPayoutAccount } from "./accounts";
import { listPayoutsDue } from "./due";
import { listAdminPayouts, listMyPayouts } from "./list";
import { runPayouts } from "./run";
import {
  adminPayoutSchema,
  adminPayoutsQuery,
  onboardingSchema,
  payoutAccountSchema,
  payoutRunSchema,
  payoutSchema,
  payoutsDueSchema,
} from "./schemas";

const tags: ApiTag[] = ["Payouts"];
export const payoutRoutes = createRouter();

const openAccount = defineRoute({
  method: "post",
  path: "/v1/me/payout-account",
  summary:
    "Create the caller's Stripe Connect Express account (201, once) or reuse it (200), with a fresh onboarding link",
  tags,
  guard: "tutor",
  ok: { status: 201, description: "The account was created" },
  errors: ["provider_unavailable"],
});

payoutRoutes.openapi(
  {
    ...openAccount,
    // defineRoute declares one success status; this route has two
    responses: {
      ...openAccount.responses,
      201: {
        description: "The account was created, with its onboarding link",
        headers: commonResponseHeaders,
        content: { "application/json": { schema: onboardingSchema } },
      },
      200: {
        description: "The account already existed: a fresh onboarding link",
        headers: commonResponseHeaders,
        content: { "application/json": { schema: onboardingSchema } },
      },
    },
  },
  async (c) => {
    const { created, view } = await openPayoutAccount(c.var.svc, c.var.auth.user);
    return created ? c.json(view, 201) : c.json(view, 200);
  },
);

payoutRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/payout-account",
    summary: "The caller's payout account (404 before POST /v1/me/payout-account)",
    tags,
    guard: "tutor",
    ok: { status: 200, description: "The account", schema: payoutAccountSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getPayoutAccount(c.var.svc, c.var.auth.userId), 200),
);

payoutRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/payouts",
    summary: "The caller's payouts, newest first",
    tags,
    guard: "tutor",
    query: z.object(pageQuery),
    ok: { status: 200, description: "Payouts", schema: pageOf(payoutSchema) },
  }),
  async (c) => c.json(await listMyPayouts(c.var.svc, c.var.auth.userId, c.req.valid("query")), 200),
);

payoutRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/payouts",
    summary: "Every payout, newest first, optionally of one status",
    tags: ["Admin"],
    guard: "admin",
    query: adminPayoutsQuery,
    ok: { status: 200, description: "Payouts", schema: pageOf(adminPayoutSchema) },
  }),
  async (c) => c.json(await listAdminPayouts(c.var.svc, c.req.valid("query")), 200),
);

payoutRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/payouts/due",
    summary:
      "The tutors the next payout run would pay (payouts enabled, balance ≥ the minimum, nothing pending), by user id",
    tags: ["Admin"],
    guard: "admin",
    query: z.object(pageQuery),
    ok: { status: 200, description: "Tutors due a payout", schema: payoutsDueSchema },
  }),
  async (c) => c.json(await listPayoutsDue(c.var.svc, c.req.valid("query")), 200),
);

payoutRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/payouts/run",
    summary: "Start a payout run: one payout of the whole balance per eligible tutor, transferred by queue jobs",
    tags: ["Admin"],
    guard: "admin",
    idempotency: "payout_run",
    ok: { status: 202, description: "The run started", schema: payoutRunSchema },
    errors: ["idempotency_conflict", "conflict"],
  }),
  async (c) => {
    const result = await runPayouts(c.var.svc, { kind: "admin", actorUserId: c.var.auth.userId });
    // only the cron's once-a-day run can be refused
    if (!result) throw new Error("an admin payout run was not started");
    return c.json(result, 202);
  },
);
