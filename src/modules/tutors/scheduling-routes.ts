/** The caller's booking rules and time off (docs/scheduling.md). */

import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import {
  bookingRulesBody,
  createdTimeOffSchema,
  timeOffBody,
  timeOffListQuery,
  timeOffPage,
  timeOffParams,
} from "./scheduling-schemas";
import { addTimeOff, deleteTimeOff, getOwnRules, listTimeOff, putOwnRules } from "./time-off";

const tags: ApiTag[] = ["Tutor profile"];
export const schedulingRoutes = createRouter();

schedulingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/tutor-profile/booking-rules",
    summary: "The caller's booking rules",
    tags,
    guard: "tutor",
    ok: { status: 200, description: "The rules in force (the defaults until set)", schema: bookingRulesBody },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getOwnRules(c.var.svc, c.var.auth.userId), 200),
);

schedulingRoutes.openapi(
  defineRoute({
    method: "put",
    path: "/v1/me/tutor-profile/booking-rules",
    summary: "Replace the caller's booking rules",
    tags,
    guard: "tutor",
    body: bookingRulesBody,
    ok: { status: 200, description: "The stored rules", schema: bookingRulesBody },
    errors: ["not_found"],
  }),
  async (c) => c.json(await putOwnRules(c.var.svc, c.var.auth.userId, c.req.valid("json")), 200),
);

schedulingRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/me/tutor-profile/time-off",
    summary: "Add a time off",
    tags,
    guard: "tutor",
    body: timeOffBody,
    ok: {
      status: 201,
      description: "The time off and the sessions already booked inside it",
      schema: createdTimeOffSchema,
    },
    errors: ["not_found", "conflict"],
  }),
  async (c) => c.json(await addTimeOff(c.var.svc, c.var.auth.userId, c.req.valid("json")), 201),
);

schedulingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/tutor-profile/time-off",
    summary: "The caller's current and future time off",
    tags,
    guard: "tutor",
    query: timeOffListQuery,
    ok: { status: 200, description: "Soonest first", schema: timeOffPage },
    errors: ["not_found"],
  }),
  async (c) => c.json(await listTimeOff(c.var.svc, c.var.auth.userId, c.req.valid("query")), 200),
);

schedulingRoutes.openapi(
  defineRoute({
    method: "delete",
    path: "/v1/me/tutor-profile/time-off/{id}",
    summary: "Remove a time off",
    tags,
    guard: "tutor",
    params: timeOffParams,
    ok: { status: 204, description: "Removed" },
    errors: ["not_found"],
  }),
  async (c) => {
    await deleteTimeOff(c.var.svc, c.var.auth.userId, c.req.valid("param").id);
    return c.body(null, 204);
  },
);
