import { createRouter, defineRoute, idParamsOf, pageOf, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { adjustCredits } from "./adjustments";
import { refundOrder } from "./admin-refund";
import { reconcile } from "./reconciliation";
import { creditsSold } from "./sales-stats";
import {
  adjustmentBody,
  adjustmentResponse,
  creditsSoldQuery,
  creditsSoldSchema,
  ledgerEntrySchema,
  orderRefundBody,
  orderSchema,
  rangeQuery,
  reconciliationSchema,
  sessionLedgerSchema,
} from "./schemas";
import { listUserLedger } from "./service";
import { sessionLedger } from "./session-ledger";
import { listUserOrders } from "./user-orders";

const tags: ApiTag[] = ["Admin"];
export const adminCreditRoutes = createRouter();

adminCreditRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/credits/adjustments",
    summary: "Manual credit or debit (the response names the idempotency key it was recorded under)",
    tags,
    guard: "admin",
    body: adjustmentBody,
    idempotency: "adjustment",
    ok: { status: 201, description: "The ledger entry", schema: adjustmentResponse },
    errors: ["insufficient_credits", "not_found", "idempotency_conflict"],
  }),
  async (c) => {
    const entry = await adjustCredits(
      c.var.svc,
      c.var.auth.userId,
      c.req.valid("json"),
      c.req.header("idempotency-key"),
    );
    c.header("idempotency-key", entry.idempotencyKey);
    return c.json(entry, 201);
  },
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/credits/orders/{id}/refund",
    summary: "Refund credits of an order to the card (reverse, then Stripe; undone if Stripe refuses)",
    tags,
    guard: "admin",
    params: idParamsOf("ord"),
    body: orderRefundBody,
    idempotency: "order_refund",
    ok: { status: 200, description: "The order after the refund", schema: orderSchema },
    errors: ["not_found", "conflict", "idempotency_conflict", "provider_unavailable"],
  }),
  async (c) =>
    c.json(
      await refundOrder(
        c.var.svc,
        c.var.auth.userId,
        c.req.valid("param").id,
        c.req.valid("json").credits,
        c.req.header("idempotency-key"),
      ),
      200,
    ),
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/users/{id}/ledger",
    summary: "A user's ledger",
    tags,
    guard: "admin",
    params: idParamsOf("usr"),
    query: z.object(pageQuery),
    ok: { status: 200, description: "Entries", schema: pageOf(ledgerEntrySchema) },
    errors: ["not_found"],
  }),
  async (c) => c.json(await listUserLedger(c.var.svc, c.req.valid("param").id, c.req.valid("query")), 200),
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/users/{id}/orders",
    summary: "A user's purchase orders, newest first (as GET /v1/credits/orders shows them)",
    tags,
    guard: "admin",
    params: idParamsOf("usr"),
    query: z.object(pageQuery),
    ok: { status: 200, description: "Orders", schema: pageOf(orderSchema) },
    errors: ["not_found"],
  }),
  async (c) => c.json(await listUserOrders(c.var.svc, c.req.valid("param").id, c.req.valid("query")), 200),
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/sessions/{id}/ledger",
    summary: "A session's credit-ledger entries and its tutor's earnings entry, oldest first",
    tags,
    guard: "admin",
    params: idParamsOf("ses"),
    ok: { status: 200, description: "The session's entries", schema: sessionLedgerSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await sessionLedger(c.var.svc, c.req.valid("param").id), 200),
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/stats/credits-sold",
    summary:
      "Credits sold per calendar day of a time zone over completed orders (gross: refunds are not subtracted), every day of the range listed",
    tags,
    guard: "admin",
    query: creditsSoldQuery,
    ok: { status: 200, description: "Days and totals", schema: creditsSoldSchema },
  }),
  async (c) => c.json(await creditsSold(c.var.svc, c.req.valid("query")), 200),
);

adminCreditRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/reconciliation",
    summary: "Money totals over a time range and whether every money identity holds",
    tags,
    guard: "admin",
    query: z.object(rangeQuery),
    ok: { status: 200, description: "Totals and identities", schema: reconciliationSchema },
  }),
  async (c) => c.json(await reconcile(c.var.svc, c.req.valid("query")), 200),
);
