/** Sessions (bookings), their recordings, Deepgram callbacks and notifications (lesson reports: reports.ts). */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { cancelledByValues, noShowParties, sessionStatuses, settlementStatuses, transcriptionStatuses } from "./enums";

export {
  type CancelledBy,
  cancelledByValues,
  type NoShowParty,
  noShowParties,
  type SessionStatus,
  type SettlementStatus,
  sessionStatuses,
  settlementStatuses,
  type TranscriptionStatus,
  transcriptionStatuses,
} from "./enums";

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    tutorProfileId: text("tutorProfileId").notNull(),
    studentProfileId: text("studentProfileId").notNull(),
    subjectId: text("subjectId"),
    startTime: integer("startTime").notNull(),
    endTime: integer("endTime").notNull(),
    status: text("status", { enum: sessionStatuses }).notNull(),
    creditsCost: integer("creditsCost").notNull(),
    agoraChannelName: text("agoraChannelName"),
    agoraHostPassPhrase: text("agoraHostPassPhrase"),
    agoraViewerPassPhrase: text("agoraViewerPassPhrase"),
    videoSessionUrl: text("videoSessionUrl"),
    cancelledAt: integer("cancelledAt"),
    cancelledBy: text("cancelledBy", { enum: cancelledByValues }),
    cancellationReason: text("cancellationReason"),
    refunded: integer("refunded", { mode: "boolean" }).notNull().default(false),
    reminder24hSentAt: integer("reminder24hSentAt"),
    reminder1hSentAt: integer("reminder1hSentAt"),
    /** (+) When the session last moved to another time (`POST /v1/sessions/:id/reschedule`). */
    rescheduledAt: integer("rescheduledAt"),
    /** (+) How many times the session moved: the calendar feed's SEQUENCE grows with it. */
    rescheduleCount: integer("rescheduleCount").notNull().default(0),
    /** (+) The weekly series it was booked in (`POST /v1/sessions/series`); null for a single booking. */
    seriesId: text("seriesId"),
    /** (+) Who did not come, as reported (`POST /v1/sessions/:id/no-show`). */
    noShow: text("noShow", { enum: noShowParties }),
    /** (+) The split of `creditsCost`, written once by the settling step (a trigger keeps it final). */
    settlementStatus: text("settlementStatus", { enum: settlementStatuses }).notNull().default("open"),
    refundedCredits: integer("refundedCredits").notNull().default(0),
    earnedCredits: integer("earnedCredits").notNull().default(0),
    /** The tutor's `session_earning`: earnedCredits × TUTOR_PAYOUT_CENTS_PER_CREDIT at settlement. */
    tutorEarningsCents: integer("tutorEarningsCents").notNull().default(0),
    settledAt: integer("settledAt"),
    disputedAt: integer("disputedAt"),
    disputeReason: text("disputeReason"),
    /**
     * A fresh id written by every lifecycle step: the guard of what the step writes beside the
     * session (entries, notifications, audit rows) in the same batch, so they exist only if this
     * very step changed the session (a timestamp could equal an earlier step's under a test clock).
     */
    transitionId: text("transitionId"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    // `id` ends each time index: it is the keyset tie-breaker, so a page needs no sort step
    index("sessions_by_tutor_and_time").on(t.tutorProfileId, t.startTime, t.id),
    index("sessions_by_student_and_time").on(t.studentProfileId, t.startTime, t.id),
    index("sessions_by_status_and_time").on(t.status, t.startTime, t.id),
    index("sessions_by_time").on(t.startTime, t.id),
    index("sessions_by_series").on(t.seriesId, t.startTime).where(sql`${t.seriesId} IS NOT NULL`),
    /** Scheduled sessions still waiting for their video room (the cron re-enqueues them). */
    index("sessions_without_room")
      .on(t.startTime)
      .where(sql`${t.agoraChannelName} IS NULL AND ${t.status} = 'scheduled'`),
    /** The lifecycle sweeps' work lists (docs/lifecycle.md): each due row is one index search away. */
    index("sessions_in_progress_by_end").on(t.endTime, t.id).where(sql`${t.status} = 'in_progress'`),
    index("sessions_scheduled_by_end").on(t.endTime, t.id).where(sql`${t.status} = 'scheduled'`),
    index("sessions_unsettled_by_end")
      .on(t.status, t.endTime, t.id)
      .where(sql`${t.settlementStatus} = 'open' AND ${t.status} IN ('completed', 'cancelled')`),
    /** A tutor's held credits (`pendingCents` of GET /v1/me/earnings): only the unsettled sessions. */
    index("sessions_held_by_tutor")
      .on(t.tutorProfileId, t.startTime)
      .where(sql`${t.settlementStatus} IN ('open', 'disputed')`),
    /** The back office's disputed (or any settlement state) list, and reconciliation by settlement time. */
    index("sessions_by_settlement_and_time").on(t.settlementStatus, t.startTime, t.id),
    index("sessions_by_settledAt").on(t.settledAt),
    check("sessions_time_order", sql`${t.endTime} > ${t.startTime}`),
    check("sessions_cost_positive", sql`${t.creditsCost} > 0`),
    check("sessions_status", sql.raw(`"status" IN (${sessionStatuses.map((v) => `'${v}'`).join(", ")})`)),
    check(
      "sessions_cancelled_by",
      sql.raw(`"cancelledBy" IS NULL OR "cancelledBy" IN (${cancelledByValues.map((v) => `'${v}'`).join(", ")})`),
    ),
    check("sessions_no_show", sql`${t.noShow} IS NULL OR ${t.noShow} IN ('student', 'tutor')`),
    /** The money identity of a session: refunded + earned + held = creditsCost, nothing held once settled. */
    check(
      "sessions_settlement_split",
      sql`${t.refundedCredits} >= 0 AND ${t.earnedCredits} >= 0 AND ${t.refundedCredits} + ${t.earnedCredits} <= ${t.creditsCost}
        AND ${t.tutorEarningsCents} >= 0 AND (${t.earnedCredits} = 0) = (${t.tutorEarningsCents} = 0)
        AND ${t.refunded} = (${t.refundedCredits} > 0)`,
    ),
    check(
      "sessions_settlement_state",
      sql`(${t.settlementStatus} IN ('open', 'disputed') AND ${t.refundedCredits} = 0 AND ${t.earnedCredits} = 0 AND ${t.settledAt} IS NULL)
        OR (${t.settlementStatus} = 'settled' AND ${t.earnedCredits} > 0 AND ${t.refundedCredits} + ${t.earnedCredits} = ${t.creditsCost} AND ${t.settledAt} IS NOT NULL)
        OR (${t.settlementStatus} = 'refunded' AND ${t.refundedCredits} = ${t.creditsCost} AND ${t.settledAt} IS NOT NULL)`,
    ),
    check("sessions_disputed_completed", sql`${t.settlementStatus} != 'disputed' OR ${t.status} = 'completed'`),
  ],
);

export const sessionRecordings = sqliteTable(
  "sessionRecordings",
  {
    id: text("id").primaryKey(),
    sessionId: text("sessionId").notNull(),
    s3Key: text("s3Key").notNull(),
    transcriptionStatus: text("transcriptionStatus", { enum: transcriptionStatuses }).notNull(),
    transcriptionText: text("transcriptionText"),
    transcriptionMeta: text("transcriptionMeta", { mode: "json" }).$type<{ confidence: number; language: string }>(),
    transcriptionError: text("transcriptionError"),
    deepgramRequestId: text("deepgramRequestId"),
    callbackSecretHash: text("callbackSecretHash"),
    /** (+) Audio uploads so far for this session (each starts a paid transcription): at most 3. */
    uploadCount: integer("uploadCount").notNull().default(1),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    // (sessionId, createdAt, id): a session's latest recording is the first entry, no sort step
    index("sessionRecordings_by_session").on(t.sessionId, t.createdAt, t.id),
    index("sessionRecordings_by_status").on(t.transcriptionStatus, t.updatedAt),
    index("sessionRecordings_by_updatedAt").on(t.updatedAt, t.id),
  ],
);

export const deepgramWebhooks = sqliteTable(
  "deepgramWebhooks",
  {
    id: text("id").primaryKey(),
    sessionRecordingId: text("sessionRecordingId"),
    requestId: text("requestId").notNull(),
    eventType: text("eventType").notNull(),
    payload: text("payload").notNull(),
    processedAt: integer("processedAt").notNull(),
  },
  (t) => [
    // newest first within a request or a recording (the callback log), read in index order
    index("deepgramWebhooks_by_requestId").on(t.requestId, t.processedAt, t.id),
    index("deepgramWebhooks_by_recording").on(t.sessionRecordingId, t.processedAt, t.id),
  ],
);

export const notifications = sqliteTable(
  "notifications",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    type: text("type").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    read: integer("read", { mode: "boolean" }).notNull().default(false),
    /** Natural key of the event that produced it (e.g. `reminder24h:<sessionId>:<startTime>:<userId>`): never twice. */
    dedupeKey: text("dedupeKey"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("notifications_by_user_and_createdAt").on(t.userId, t.createdAt, t.id),
    index("notifications_by_user_and_read").on(t.userId, t.read, t.createdAt, t.id),
    uniqueIndex("notifications_by_dedupeKey").on(t.dedupeKey),
  ],
);
