import type { creditsLedger } from "../../db/schema";
import { withCaller } from "../../http/auth";
import { createRouter, defineRoute, pageOf, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { checkoutBody, checkoutResponse, ledgerEntrySchema, orderSchema, packSchema } from "./schemas";
import { balanceQuery, ledgerPage, ledgerPageStatement, listOrders, listPacks, startCheckout } from "./service";

const tags: ApiTag[] = ["Credits"];
export const creditRoutes = createRouter();

creditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/credits/packs",
    summary: "Credit packs for sale",
    tags,
    ok: { status: 200, description: "Packs", schema: pageOf(packSchema) },
  }),
  (c) => c.json(listPacks(c.var.svc), 200),
);

creditRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/credits/checkout",
    summary: "Start a Stripe Checkout for a pack",
    tags,
    guard: "student",
    body: checkoutBody,
    idempotency: "checkout",
    ok: { status: 201, description: "Checkout created", schema: checkoutResponse },
    errors: ["conflict", "idempotency_conflict", "provider_unavailable"],
  }),
  async (c) => {
    const { user } = c.var.auth;
    return c.json(await startCheckout(c.var.svc, user, c.req.valid("json").packId), 201);
  },
);

creditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/credits/orders",
    summary: "The caller's purchase orders, newest first",
    tags,
    guard: "student",
    query: z.object(pageQuery),
    ok: { status: 200, description: "Orders", schema: pageOf(orderSchema) },
  }),
  async (c) => c.json(await listOrders(c.var.svc, c.var.auth.userId, c.req.valid("query")), 200),
);

creditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/credits/balance",
    summary: "The caller's balance",
    tags,
    guard: "student",
    batchedCaller: true,
    ok: { status: 200, description: "Balance", schema: z.object({ balance: z.number().int() }) },
  }),
  async (c) => {
    const { rows } = await withCaller<{ balanceAfter: number }>(c, "student", (claims) =>
      balanceQuery(c.var.svc, claims.sub),
    );
    return c.json({ balance: rows[0]?.balanceAfter ?? 0 }, 200);
  },
);

creditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/credits/ledger",
    summary: "The caller's ledger, newest first (chain order)",
    tags,
    guard: "student",
    batchedCaller: true,
    query: z.object(pageQuery),
    ok: { status: 200, description: "Entries", schema: pageOf(ledgerEntrySchema) },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows } = await withCaller<typeof creditsLedger.$inferSelect>(c, "student", (claims) =>
      ledgerPageStatement(c.var.svc, claims.sub, q),
    );
    return c.json(ledgerPage(rows, q.limit), 200);
  },
);
