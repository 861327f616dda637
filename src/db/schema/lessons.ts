/** Sessions (bookings), their recordings, Deepgram callbacks, lesson reports and notifications. */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const sessionStatuses = ["scheduled", "in_progress", "completed", "cancelled"] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

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
    cancelledBy: text("cancelledBy"),
    cancellationReason: text("cancellationReason"),
    refunded: integer("refunded", { mode: "boolean" }).notNull().default(false),
    reminder24hSentAt: integer("reminder24hSentAt"),
    reminder1hSentAt: integer("reminder1hSentAt"),
    /** (+) When the session last moved to another time (`POST /v1/sessions/:id/reschedule`). */
    rescheduledAt: integer("rescheduledAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    // `id` ends each time index: it is the keyset tie-breaker, so a page needs no sort step
    index("sessions_by_tutor_and_time").on(t.tutorProfileId, t.startTime, t.id),
    index("sessions_by_student_and_time").on(t.studentProfileId, t.startTime, t.id),
    index("sessions_by_status_and_time").on(t.status, t.startTime, t.id),
    index("sessions_by_time").on(t.startTime, t.id),
    /** Scheduled sessions still waiting for their video room (the cron re-enqueues them). */
    index("sessions_without_room")
      .on(t.startTime)
      .where(sql`${t.agoraChannelName} IS NULL AND ${t.status} = 'scheduled'`),
    check("sessions_time_order", sql`${t.endTime} > ${t.startTime}`),
    check("sessions_cost_positive", sql`${t.creditsCost} > 0`),
  ],
);

export const transcriptionStatuses = ["pending", "processing", "completed", "failed"] as const;

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
    index("sessionRecordings_by_session").on(t.sessionId),
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
    index("deepgramWebhooks_by_requestId").on(t.requestId),
    index("deepgramWebhooks_by_recording").on(t.sessionRecordingId),
  ],
);

export const lessonReports = sqliteTable(
  "lessonReports",
  {
    id: text("id").primaryKey(),
    sessionId: text("sessionId").notNull(),
    studentProfileId: text("studentProfileId").notNull(),
    tutorProfileId: text("tutorProfileId").notNull(),
    summary: text("summary").notNull(),
    topicsCovered: text("topicsCovered", { mode: "json" }).$type<string[]>().notNull(),
    nextSteps: text("nextSteps", { mode: "json" }).$type<string[]>().notNull(),
    rawTranscript: text("rawTranscript"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("lessonReports_by_session").on(t.sessionId),
    index("lessonReports_by_student_and_createdAt").on(t.studentProfileId, t.createdAt),
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
