/** `GET /v1/me/earnings` and `GET /v1/me/earnings/ledger`: a tutor's own earnings (tutor role only: 403 otherwise). */

import { withCaller } from "../../http/auth";
import { createRouter, defineRoute, pageOf, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import type { EarningsEntry } from "../../ledger/earnings-sql";
import { earningsEntrySchema, earningsSummarySchema } from "./schemas";
import { earningsPage, earningsPageStatement, earningsSummary } from "./service";

const tags: ApiTag[] = ["Earnings"];
export const earningsRoutes = createRouter();

earningsRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/earnings",
    summary: "The caller's earnings: available balance, what open and disputed sessions would earn",
    tags,
    guard: "tutor",
    ok: { status: 200, description: "Earnings", schema: earningsSummarySchema },
  }),
  async (c) => {
    const { userId, user } = c.var.auth;
    return c.json(await earningsSummary(c.var.svc, { userId, tutorProfileId: user.tutorProfileId }), 200);
  },
);

earningsRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/earnings/ledger",
    summary: "The caller's earnings entries, newest first (chain order)",
    tags,
    guard: "tutor",
    batchedCaller: true,
    query: z.object(pageQuery),
    ok: { status: 200, description: "Entries", schema: pageOf(earningsEntrySchema) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows } = await withCaller<EarningsEntry>(c, "tutor", (claims) =>
      earningsPageStatement(c.var.svc, claims.sub, q),
    );
    return c.json(earningsPage(rows, q.limit), 200);
  },
);
