/** Back-office lists that belong to no other module: users by context or address, dead letters, the audit log. */

import { tutorStatuses, userContexts } from "../../db/schema";
import { createRouter, defineRoute, idParamsOf, pageOf, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { auditRoutes } from "../audit/routes";
import { userSchema } from "../auth/schemas";
import { listDeadLetters, replayDeadLetter } from "./dead-letters";
import { listUsers } from "./service";
import { userDetail } from "./user-detail";

const tags: ApiTag[] = ["Admin"];
export const adminRoutes = createRouter();
adminRoutes.route("/", auditRoutes);

adminRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/users",
    summary: "Users (optionally by context), newest first; `email` finds the one user of an address (any letter case)",
    tags,
    guard: "admin",
    query: z.object({
      ...pageQuery,
      context: z.enum(userContexts).optional(),
      // the same rule as the login's address (OtpRequest)
      email: z.email().max(254).optional(),
    }),
    ok: { status: 200, description: "Users", schema: pageOf(userSchema) },
  }),
  async (c) => c.json(await listUsers(c.var.svc, c.req.valid("query")), 200),
);

const userDetailSchema = userSchema
  .extend({
    studentProfile: z.object({ id: z.string(), displayName: z.string() }).nullable(),
    tutorProfile: z
      .object({
        id: z.string(),
        displayName: z.string(),
        hourlyCreditsPrice: z.number().int(),
        status: z.enum(tutorStatuses),
        statusReason: z.string().nullable(),
      })
      .nullable(),
    /** Credits (the latest line of the user's credit ledger; negative only after a purchase reversal). */
    balance: z.number().int(),
    /** Cents available to a tutor (the latest line of the earnings ledger; 0 for a non-tutor). */
    earningsBalanceCents: z.number().int(),
    /** The tutor's Stripe Connect account state; null before onboarding starts. */
    payoutAccount: z
      .object({ accountId: z.string(), payoutsEnabled: z.boolean(), detailsSubmitted: z.boolean() })
      .nullable(),
    /** Cents of the tutor's pending payout (already debited from the earnings balance; at most one). */
    pendingPayoutCents: z.number().int(),
  })
  .openapi("AdminUserDetail");

adminRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/users/{id}",
    summary: "One user with their profiles, credit balance, earnings balance, tutor status and payout state",
    tags,
    guard: "admin",
    params: idParamsOf("usr"),
    ok: { status: 200, description: "The user", schema: userDetailSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await userDetail(c.var.svc, c.req.valid("param").id), 200),
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
  async (c) => c.json(await listDeadLetters(c.var.svc, c.req.valid("query")), 200),
);

adminRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/dead-letters/{id}/replay",
    summary: "Re-enqueue a dead letter's job (jobs are idempotent: a replayed fulfilment credits at most once)",
    tags,
    guard: "admin",
    params: idParamsOf("dlq"),
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
    errors: ["not_found", "conflict"],
  }),
  async (c) => c.json(await replayDeadLetter(c.var.svc, c.var.auth.userId, c.req.valid("param").id), 202),
);
