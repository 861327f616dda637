import { withCaller } from "../../http/auth";
import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { adminSessionDetail } from "./admin-detail";
import { adminSessionsStatement } from "./admin-list";
import { bookSession } from "./book";
import { disputeSession, reportNoShow, resolveSession } from "./lifecycle";
import { completeSession, startSession } from "./progress";
import { rescheduleSession } from "./reschedule";
import {
  adminListQuery,
  adminSessionSchema,
  bookBody,
  cancelBody,
  disputeBody,
  idParams,
  joinSchema,
  listQuery,
  noShowBody,
  rescheduleBody,
  resolveBody,
  seriesBody,
  seriesSchema,
  seriesSessionsSchema,
  sessionPage,
  sessionSchema,
} from "./schemas";
import { bookSeries, cancelSeries } from "./series";
import { cancelSession, getSession, joinSession, mySessionsStatement, type RawSession, sessionsPage } from "./service";

const tags: ApiTag[] = ["Sessions"];
export const sessionRoutes = createRouter();

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions",
    summary: "Book a session (debits its credits atomically)",
    tags,
    guard: "student",
    body: bookBody,
    idempotency: "booking",
    ok: { status: 201, description: "The scheduled session", schema: sessionSchema },
    errors: ["insufficient_credits", "not_found", "slot_unavailable", "conflict", "idempotency_conflict"],
  }),
  async (c) =>
    c.json(await bookSession(c.var.svc, c.var.auth, c.req.valid("json"), c.req.header("idempotency-key")), 201),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/series",
    summary: "Book weekly lessons, all or nothing (debits them atomically)",
    tags,
    guard: "student",
    body: seriesBody,
    idempotency: "series",
    ok: { status: 201, description: "The series and its sessions", schema: seriesSchema },
    errors: ["insufficient_credits", "not_found", "slot_unavailable", "conflict", "idempotency_conflict"],
  }),
  async (c) =>
    c.json(await bookSeries(c.var.svc, c.var.auth, c.req.valid("json"), c.req.header("idempotency-key")), 201),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/series/{id}/cancel",
    summary: "Cancel every future occurrence of a series (refund by policy, each)",
    tags,
    guard: "user",
    params: idParams,
    body: cancelBody,
    optionalBody: true,
    ok: { status: 200, description: "The series' sessions after the cancellation", schema: seriesSessionsSchema },
    errors: ["not_found", "conflict"],
  }),
  async (c) =>
    c.json(
      await cancelSeries(
        c.var.svc,
        c.var.auth,
        c.req.valid("param").id,
        (c.req.valid("json") as { reason?: string } | undefined)?.reason,
      ),
      200,
    ),
);

sessionRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions",
    summary: "The caller's sessions as student or tutor",
    tags,
    guard: "user",
    batchedCaller: true,
    query: listQuery,
    ok: { status: 200, description: "Sessions", schema: sessionPage },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows } = await withCaller<RawSession>(c, "user", (claims) => mySessionsStatement(c.var.svc, claims, q));
    return c.json(sessionsPage(rows, q.limit), 200);
  },
);

sessionRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions/{id}",
    summary: "A session (participants and admins)",
    tags,
    guard: "user",
    params: idParams,
    ok: { status: 200, description: "The session", schema: sessionSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getSession(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/cancel",
    summary: "Cancel a scheduled session (refund by policy)",
    tags,
    guard: "user",
    params: idParams,
    body: cancelBody,
    optionalBody: true,
    ok: { status: 200, description: "The cancelled session", schema: sessionSchema },
    errors: ["not_found", "conflict", "policy_window_closed"],
  }),
  async (c) =>
    c.json(
      await cancelSession(
        c.var.svc,
        c.var.auth,
        c.req.valid("param").id,
        (c.req.valid("json") as { reason?: string } | undefined)?.reason,
      ),
      200,
    ),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/reschedule",
    summary: "Move a scheduled session to another time (same duration and cost)",
    tags,
    guard: "user",
    params: idParams,
    body: rescheduleBody,
    idempotency: "reschedule",
    ok: { status: 200, description: "The session at its new time", schema: sessionSchema },
    errors: ["not_found", "conflict", "policy_window_closed", "slot_unavailable", "idempotency_conflict"],
  }),
  async (c) =>
    c.json(await rescheduleSession(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("json")), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/start",
    summary: "Start a session (its tutor, from 15 minutes before)",
    tags,
    guard: "user",
    params: idParams,
    ok: { status: 200, description: "The session, in progress", schema: sessionSchema },
    errors: ["forbidden", "not_found", "conflict"],
  }),
  async (c) => c.json(await startSession(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/complete",
    summary: "Complete a session (its tutor or an admin)",
    tags,
    guard: "user",
    params: idParams,
    ok: { status: 200, description: "The completed session", schema: sessionSchema },
    errors: ["forbidden", "not_found", "conflict"],
  }),
  async (c) => c.json(await completeSession(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/no-show",
    summary: "Report a no-show (the other participant's, or either for an admin)",
    tags,
    guard: "user",
    params: idParams,
    body: noShowBody,
    ok: { status: 200, description: "The session after the report", schema: sessionSchema },
    errors: ["forbidden", "not_found", "conflict", "policy_window_closed"],
  }),
  async (c) =>
    c.json(await reportNoShow(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("json").party), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/dispute",
    summary: "Dispute a completed session before it settles (its student)",
    tags,
    guard: "user",
    params: idParams,
    body: disputeBody,
    ok: { status: 200, description: "The disputed session", schema: sessionSchema },
    errors: ["forbidden", "not_found", "conflict", "policy_window_closed"],
  }),
  async (c) => c.json(await disputeSession(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("json")), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions/{id}/join",
    summary: "The caller's video link (host for the tutor, viewer for the student)",
    tags,
    guard: "user",
    params: idParams,
    ok: { status: 200, description: "Join link", schema: joinSchema },
    errors: ["forbidden", "not_found", "conflict", "room_not_ready", "provider_unavailable"],
  }),
  async (c) => c.json(await joinSession(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/sessions",
    summary: "Sessions by status or settlement status, and time",
    tags: ["Admin"],
    guard: "admin",
    batchedCaller: true,
    query: adminListQuery,
    ok: { status: 200, description: "Sessions", schema: sessionPage },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { rows } = await withCaller<RawSession>(c, "admin", () => adminSessionsStatement(c.var.svc, q));
    return c.json(sessionsPage(rows, q.limit), 200);
  },
);

sessionRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/sessions/{id}",
    summary: "One session with its student and tutor, and the state of its recording and report",
    tags: ["Admin"],
    guard: "admin",
    params: idParams,
    ok: { status: 200, description: "The session", schema: adminSessionSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await adminSessionDetail(c.var.svc, c.req.valid("param").id), 200),
);

sessionRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/sessions/{id}/resolve",
    summary: "Settle a disputed (or open) completed session: refundCredits back, the rest earned",
    tags: ["Admin"],
    guard: "admin",
    params: idParams,
    body: resolveBody,
    idempotency: "resolve",
    ok: { status: 200, description: "The settled session", schema: sessionSchema },
    errors: ["not_found", "conflict", "idempotency_conflict"],
  }),
  async (c) =>
    c.json(await resolveSession(c.var.svc, c.var.auth.userId, c.req.valid("param").id, c.req.valid("json")), 200),
);
