/** The outgoing-webhook admin routes: endpoints, their secrets and delivery logs, manual retries. */

import { createRouter, defineRoute, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { listDeliveries, retryDelivery } from "./deliveries";
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, rotateSecret, updateEndpoint } from "./endpoints";
import {
  createdEndpointSchema,
  createEndpointBody,
  deliveryIdParams,
  deliveryPage,
  deliverySchema,
  endpointIdParams,
  endpointPage,
  endpointSchema,
  rotatedSecretSchema,
  updateEndpointBody,
} from "./schemas";

const tags: ApiTag[] = ["Outgoing webhooks"];
export const integrationRoutes = createRouter();

integrationRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/webhook-endpoints",
    summary: "Register an endpoint for some or all event types; the answer carries its signing secret, shown only here",
    tags,
    guard: "admin",
    idempotency: "webhook_endpoint_create",
    body: createEndpointBody,
    ok: { status: 201, description: "The endpoint, with its secret", schema: createdEndpointSchema },
    errors: ["idempotency_conflict"],
  }),
  async (c) => c.json(await createEndpoint(c.var.svc, c.var.auth.userId, c.req.valid("json")), 201),
);

integrationRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/webhook-endpoints",
    summary: "The endpoints, newest first, without their secrets",
    tags,
    guard: "admin",
    query: z.object(pageQuery),
    ok: { status: 200, description: "Endpoints", schema: endpointPage },
  }),
  async (c) => c.json(await listEndpoints(c.var.svc, c.req.valid("query")), 200),
);

integrationRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/webhook-endpoints/{id}",
    summary: "One endpoint, without its secret",
    tags,
    guard: "admin",
    params: endpointIdParams,
    ok: { status: 200, description: "The endpoint", schema: endpointSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getEndpoint(c.var.svc, c.req.valid("param").id), 200),
);

integrationRoutes.openapi(
  defineRoute({
    method: "patch",
    path: "/v1/admin/webhook-endpoints/{id}",
    summary: "Change an endpoint's URL, events or description, or disable / re-enable it",
    tags,
    guard: "admin",
    params: endpointIdParams,
    body: updateEndpointBody,
    ok: { status: 200, description: "The endpoint", schema: endpointSchema },
    errors: ["not_found"],
  }),
  async (c) =>
    c.json(await updateEndpoint(c.var.svc, c.var.auth.userId, c.req.valid("param").id, c.req.valid("json")), 200),
);

integrationRoutes.openapi(
  defineRoute({
    method: "delete",
    path: "/v1/admin/webhook-endpoints/{id}",
    summary: "Delete an endpoint and its delivery log; nothing more is sent to it",
    tags,
    guard: "admin",
    params: endpointIdParams,
    ok: { status: 204, description: "Deleted" },
    errors: ["not_found"],
  }),
  async (c) => {
    await deleteEndpoint(c.var.svc, c.var.auth.userId, c.req.valid("param").id);
    return c.body(null, 204);
  },
);

integrationRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/webhook-endpoints/{id}/rotate-secret",
    summary: "A new signing secret, effective at once; the previous one also signs for 24 hours",
    tags,
    guard: "admin",
    idempotency: "webhook_secret_rotate",
    params: endpointIdParams,
    ok: { status: 200, description: "The new secret", schema: rotatedSecretSchema },
    errors: ["not_found", "idempotency_conflict"],
  }),
  async (c) => c.json(await rotateSecret(c.var.svc, c.var.auth.userId, c.req.valid("param").id), 200),
);

integrationRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/webhook-endpoints/{id}/deliveries",
    summary: "The endpoint's deliveries, newest first: status, attempts, the last answer and the next attempt",
    tags,
    guard: "admin",
    params: endpointIdParams,
    query: z.object(pageQuery),
    ok: { status: 200, description: "Deliveries", schema: deliveryPage },
    errors: ["not_found"],
  }),
  async (c) => c.json(await listDeliveries(c.var.svc, c.req.valid("param").id, c.req.valid("query")), 200),
);

integrationRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/webhook-deliveries/{id}/retry",
    summary: "One more attempt of a delivery, now (409 while its endpoint is disabled)",
    tags,
    guard: "admin",
    params: deliveryIdParams,
    ok: { status: 202, description: "The attempt is queued", schema: deliverySchema },
    errors: ["not_found", "conflict"],
  }),
  async (c) => c.json(await retryDelivery(c.var.svc, c.var.auth.userId, c.req.valid("param").id), 202),
);
