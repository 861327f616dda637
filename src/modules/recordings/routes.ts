import { readTextLimited } from "../../http/body";
import { createRouter, defineRoute, z } from "../../http/openapi";
import { editReport, getReport, listMyReports, listReportVersions, publishReport, regenerateReport } from "./review";
import {
  adminRecordingPage,
  adminRecordingsQuery,
  recordingIdParams,
  recordingSchema,
  regenerateAccepted,
  regenerateBody,
  reportEditBody,
  reportListQuery,
  reportPage,
  reportSchema,
  reportVersionPage,
  reportVersionQuery,
  sessionIdParams,
  uploadAccepted,
  webhookAck,
  webhookLogPage,
  webhookLogQuery,
} from "./schemas";
import { getRecording, listRecordingsByStatus, retryRecording, uploadRecording } from "./service";
import { handleDeepgramCallback } from "./webhook";
import { listDeepgramCallbacks } from "./webhook-log";

export const recordingRoutes = createRouter();

recordingRoutes.openapi(
  defineRoute({
    method: "put",
    path: "/v1/sessions/{id}/recording",
    summary: "Upload the session's audio recording (replaces any previous one)",
    tags: ["Recordings"],
    guard: "user",
    params: sessionIdParams,
    rawBody: { contentTypes: ["audio/*"], description: "The raw audio, with Content-Length" },
    ok: { status: 202, description: "Stored; transcription requested", schema: uploadAccepted },
    errors: [
      "validation_failed",
      "forbidden",
      "not_found",
      "conflict",
      "payload_too_large",
      "unsupported_media_type",
      "provider_unavailable",
    ],
  }),
  async (c) =>
    c.json(
      await uploadRecording(c.var.svc, c.var.auth, c.req.valid("param").id, {
        contentType: c.req.header("content-type"),
        contentLength: c.req.header("content-length"),
        body: c.req.raw.body,
      }),
      202,
    ),
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions/{id}/recording",
    summary: "The session's recording and its transcription",
    tags: ["Recordings"],
    guard: "user",
    params: sessionIdParams,
    ok: { status: 200, description: "The recording", schema: recordingSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getRecording(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions/{id}/report",
    summary: "The session's lesson report (404 until ready; a draft only for its tutor and admins)",
    tags: ["Reports"],
    guard: "user",
    params: sessionIdParams,
    ok: { status: 200, description: "The report", schema: reportSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getReport(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "patch",
    path: "/v1/sessions/{id}/report",
    summary: "Edit the report draft (a new version; 409 once published or while a generation runs)",
    tags: ["Reports"],
    guard: "user",
    params: sessionIdParams,
    body: reportEditBody,
    ok: { status: 200, description: "The edited draft", schema: reportSchema },
    errors: ["validation_failed", "not_found", "conflict"],
  }),
  async (c) => c.json(await editReport(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("json")), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/report/publish",
    summary: "Publish the report draft to the student (report_ready)",
    tags: ["Reports"],
    guard: "user",
    params: sessionIdParams,
    ok: { status: 200, description: "The published report", schema: reportSchema },
    errors: ["not_found", "conflict"],
  }),
  async (c) => c.json(await publishReport(c.var.svc, c.var.auth, c.req.valid("param").id), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/report/regenerate",
    summary: "Write a new draft version from the stored transcript, with optional instructions",
    tags: ["Reports"],
    guard: "user",
    params: sessionIdParams,
    body: regenerateBody,
    optionalBody: true,
    ok: { status: 202, description: "Generation started", schema: regenerateAccepted },
    errors: ["validation_failed", "not_found", "conflict"],
  }),
  async (c) =>
    c.json(
      await regenerateReport(
        c.var.svc,
        c.var.auth,
        c.req.valid("param").id,
        (c.req.valid("json") as { instructions?: string } | undefined)?.instructions,
      ),
      202,
    ),
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/sessions/{id}/report/versions",
    summary: "Every version of the report, newest first",
    tags: ["Reports"],
    guard: "user",
    params: sessionIdParams,
    query: reportVersionQuery,
    ok: { status: 200, description: "Versions", schema: reportVersionPage },
    errors: ["not_found"],
  }),
  async (c) =>
    c.json(await listReportVersions(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("query")), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/reports",
    summary: "The caller's published lesson reports, newest publication first",
    tags: ["Reports"],
    guard: "student",
    query: reportListQuery,
    ok: { status: 200, description: "Reports", schema: reportPage },
  }),
  async (c) => c.json(await listMyReports(c.var.svc, c.var.auth, c.req.valid("query")), 200),
);

/** Callbacks carry the transcript with per-word timings: generous, but bounded. */
const DEEPGRAM_CALLBACK_MAX_BYTES = 32 * 1024 * 1024;

recordingRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/webhooks/deepgram",
    summary: "Deepgram transcription callback (signed token in the query)",
    tags: ["Webhooks"],
    query: z.object({ token: z.string().optional() }),
    rawBody: { contentTypes: ["application/json"], description: "Deepgram's pre-recorded callback body" },
    ok: { status: 200, description: "Acknowledged", schema: webhookAck },
    errors: ["validation_failed", "unauthorized", "payload_too_large"],
  }),
  async (c) => {
    return c.json(
      await handleDeepgramCallback(c.var.svc, c.req.valid("query").token, () =>
        readTextLimited(c.req.raw, DEEPGRAM_CALLBACK_MAX_BYTES),
      ),
      200,
    );
  },
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/recordings",
    summary: "Recordings by transcription status, most recently updated first",
    tags: ["Admin"],
    guard: "admin",
    query: adminRecordingsQuery,
    ok: { status: 200, description: "Recordings", schema: adminRecordingPage },
  }),
  async (c) => c.json(await listRecordingsByStatus(c.var.svc, c.req.valid("query")), 200),
);

recordingRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/admin/recordings/{id}/retry",
    summary: "Restart a failed transcription or report",
    tags: ["Admin"],
    guard: "admin",
    params: recordingIdParams,
    ok: {
      status: 202,
      description: "Restarted",
      schema: z.object({ id: z.string(), action: z.enum(["transcription", "report"]) }),
    },
    errors: ["not_found", "conflict"],
  }),
  async (c) => c.json(await retryRecording(c.var.svc, c.var.auth.userId, c.req.valid("param").id), 202),
);

recordingRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/admin/webhooks/deepgram",
    summary: "Logged Deepgram callbacks of a request or a recording, newest first",
    tags: ["Admin"],
    guard: "admin",
    query: webhookLogQuery,
    ok: { status: 200, description: "Logged callbacks", schema: webhookLogPage },
  }),
  async (c) => c.json(await listDeepgramCallbacks(c.var.svc, c.req.valid("query")), 200),
);
