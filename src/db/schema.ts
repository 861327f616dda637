/**
 * The whole data model (docs/data-model.md) as drizzle tables. drizzle-kit turns this file into
 * the SQL migrations in `migrations/`.
 *
 * Index names: the seed's names (`by_user`, `by_session`, …) repeat across tables, but SQLite index
 * names are global to a database, so every index is named `<table>_<seed name>`.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const userContexts = ["student", "tutor", "admin"] as const;
export type UserContext = (typeof userContexts)[number];

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name"),
    context: text("context", { enum: userContexts }).notNull(),
    studentProfileId: text("studentProfileId"),
    tutorProfileId: text("tutorProfileId"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("users_by_email").on(t.email),
    index("users_by_context").on(t.context, t.createdAt, t.id),
    index("users_by_createdAt").on(t.createdAt, t.id),
  ],
);

export const studentProfiles = sqliteTable(
  "studentProfiles",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    displayName: text("displayName").notNull(),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [uniqueIndex("studentProfiles_by_user").on(t.userId)],
);

export const tutorProfiles = sqliteTable(
  "tutorProfiles",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    displayName: text("displayName").notNull(),
    bio: text("bio").notNull(),
    /** JSON array of subject ids, mirrored from `tutorSubjects` (the indexed link). */
    subjects: text("subjects", { mode: "json" }).$type<string[]>().notNull(),
    hourlyCreditsPrice: integer("hourlyCreditsPrice").notNull(),
    avatarS3Key: text("avatarS3Key"),
    avatarContentType: text("avatarContentType"),
    timezone: text("timezone"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("tutorProfiles_by_user").on(t.userId),
    check("tutorProfiles_price_positive", sql`${t.hourlyCreditsPrice} > 0`),
  ],
);

/** (+) Tutor ↔ subject link; `by_subject` serves "tutors teaching X" with cursor pages. */
export const tutorSubjects = sqliteTable(
  "tutorSubjects",
  {
    tutorProfileId: text("tutorProfileId").notNull(),
    subjectId: text("subjectId").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tutorProfileId, t.subjectId] }),
    index("tutorProfiles_by_subject").on(t.subjectId, t.tutorProfileId),
  ],
);

/** (+) Weekly availability ranges, minutes from local midnight in the tutor's IANA zone. */
export const tutorAvailability = sqliteTable(
  "tutorAvailability",
  {
    id: text("id").primaryKey(),
    tutorProfileId: text("tutorProfileId").notNull(),
    timezone: text("timezone").notNull(),
    weekday: integer("weekday").notNull(),
    start: integer("start").notNull(),
    end: integer("end").notNull(),
  },
  (t) => [
    index("tutorAvailability_by_tutor").on(t.tutorProfileId, t.weekday, t.start),
    check("tutorAvailability_range", sql`${t.start} >= 0 AND ${t.end} <= 1440 AND ${t.start} < ${t.end}`),
    check("tutorAvailability_weekday", sql`${t.weekday} BETWEEN 0 AND 6`),
  ],
);

export const subjects = sqliteTable(
  "subjects",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [uniqueIndex("subjects_by_slug").on(t.slug), index("subjects_by_name").on(t.name)],
);

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

export const orderStatuses = ["pending", "completed", "failed", "expired"] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export const disputeStatuses = ["open", "won", "lost"] as const;
export type DisputeStatus = (typeof disputeStatuses)[number];

export const creditPurchaseOrders = sqliteTable(
  "creditPurchaseOrders",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    packId: text("packId").notNull(),
    stripeCheckoutSessionId: text("stripeCheckoutSessionId"),
    stripePaymentIntentId: text("stripePaymentIntentId"),
    checkoutUrl: text("checkoutUrl"),
    totalCredits: integer("totalCredits").notNull(),
    totalCents: integer("totalCents").notNull(),
    currency: text("currency").notNull(),
    status: text("status", { enum: orderStatuses }).notNull(),
    completedAt: integer("completedAt"),
    failedAt: integer("failedAt"),
    expiredAt: integer("expiredAt"),
    /** Cents refunded to the card so far (the highest `amount_refunded` Stripe reported, or admin refunds). */
    refundedCents: integer("refundedCents").notNull().default(0),
    /** The highest `amount_refunded` Stripe reported for the charge: an undone admin refund never goes below it. */
    stripeRefundedCents: integer("stripeRefundedCents").notNull().default(0),
    /** Credits of this order currently reversed (refunds and an open or lost dispute). */
    reversedCredits: integer("reversedCredits").notNull().default(0),
    /** The part of `reversedCredits` a dispute took: reinstated if the dispute is won. */
    disputeReversedCredits: integer("disputeReversedCredits").notNull().default(0),
    disputeStatus: text("disputeStatus", { enum: disputeStatuses }),
    disputeId: text("disputeId"),
    /** When the recovery sweep last asked Stripe about this pending order (at most every 30 minutes). */
    recoveryCheckedAt: integer("recoveryCheckedAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    index("creditPurchaseOrders_by_user_and_createdAt").on(t.userId, t.createdAt, t.id),
    index("creditPurchaseOrders_by_checkoutSessionId").on(t.stripeCheckoutSessionId),
    index("creditPurchaseOrders_by_paymentIntent").on(t.stripePaymentIntentId),
    /** The recovery sweep's work list: pending orders by age. */
    index("creditPurchaseOrders_pending").on(t.createdAt, t.id).where(sql`${t.status} = 'pending'`),
    index("creditPurchaseOrders_by_completedAt").on(t.completedAt),
    check("creditPurchaseOrders_credits_positive", sql`${t.totalCredits} > 0`),
    check(
      "creditPurchaseOrders_reversed_within_credits",
      sql`${t.reversedCredits} >= 0 AND ${t.reversedCredits} <= ${t.totalCredits}`,
    ),
    check(
      "creditPurchaseOrders_dispute_within_reversed",
      sql`${t.disputeReversedCredits} >= 0 AND ${t.disputeReversedCredits} <= ${t.reversedCredits}`,
    ),
    check(
      "creditPurchaseOrders_refund_within_total",
      sql`${t.refundedCents} >= 0 AND ${t.refundedCents} <= ${t.totalCents} AND ${t.stripeRefundedCents} <= ${t.refundedCents}`,
    ),
  ],
);

export const ledgerTypes = ["credit", "debit"] as const;
export const ledgerSources = [
  "purchase",
  "session_booking",
  "session_refund",
  "manual_adjustment",
  "purchase_reversal",
  "purchase_reinstated",
] as const;
export type LedgerType = (typeof ledgerTypes)[number];
export type LedgerSource = (typeof ledgerSources)[number];

/**
 * The credit statement. Append-only (triggers in the first migration abort UPDATE/DELETE), one chain
 * per user: `seq` is previous + 1 and `balanceAfter` is previous ± amount (a BEFORE INSERT trigger
 * checks both). Never negative, except that a `purchase_reversal` (a card refund or chargeback after
 * the credits were spent) may take it below zero; while negative only credits can follow.
 */
export const creditsLedger = sqliteTable(
  "creditsLedger",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    seq: integer("seq").notNull(),
    type: text("type", { enum: ledgerTypes }).notNull(),
    amount: integer("amount").notNull(),
    balanceAfter: integer("balanceAfter").notNull(),
    source: text("source", { enum: ledgerSources }).notNull(),
    purchaseOrderId: text("purchaseOrderId"),
    sessionId: text("sessionId"),
    description: text("description").notNull(),
    idempotencyKey: text("idempotencyKey").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("creditsLedger_by_user_and_seq").on(t.userId, t.seq),
    uniqueIndex("creditsLedger_by_idempotencyKey").on(t.idempotencyKey),
    index("creditsLedger_by_user_and_createdAt").on(t.userId, t.createdAt),
    index("creditsLedger_by_session").on(t.sessionId),
    index("creditsLedger_by_order").on(t.purchaseOrderId),
    /** Reconciliation totals over a time range. */
    index("creditsLedger_by_createdAt").on(t.createdAt, t.source),
    check("creditsLedger_amount_positive", sql`${t.amount} > 0`),
    check(
      "creditsLedger_balance_non_negative",
      sql`${t.balanceAfter} >= 0 OR ${t.type} = 'credit' OR ${t.source} = 'purchase_reversal'`,
    ),
    check("creditsLedger_seq_positive", sql`${t.seq} >= 1`),
    check("creditsLedger_type", sql`${t.type} IN ('credit', 'debit')`),
    check("creditsLedger_source", sql.raw(`"source" IN (${ledgerSources.map((v) => `'${v}'`).join(", ")})`)),
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
    /** Natural key of the event that produced it (e.g. `reminder24h:<sessionId>:<userId>`): never twice. */
    dedupeKey: text("dedupeKey"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("notifications_by_user_and_createdAt").on(t.userId, t.createdAt, t.id),
    index("notifications_by_user_and_read").on(t.userId, t.read, t.createdAt, t.id),
    uniqueIndex("notifications_by_dedupeKey").on(t.dedupeKey),
  ],
);

/** (+) E-mail one-time codes, stored as HMACs, single use. */
export const otpCodes = sqliteTable(
  "otpCodes",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    codeHash: text("codeHash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: integer("expiresAt").notNull(),
    consumedAt: integer("consumedAt"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("otpCodes_by_email_and_createdAt").on(t.email, t.createdAt),
    index("otpCodes_by_expiresAt").on(t.expiresAt),
  ],
);

/** (+) Sliding-window rate limit events (`otp:email:<addr>`, `otp:ip:<ip>`). */
export const rateLimitEvents = sqliteTable(
  "rateLimitEvents",
  {
    id: text("id").primaryKey(),
    bucket: text("bucket").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("rateLimitEvents_by_bucket_and_createdAt").on(t.bucket, t.createdAt),
    index("rateLimitEvents_by_createdAt").on(t.createdAt),
  ],
);

/** (+) Refresh tokens, stored hashed; rotation links them in a family. */
export const refreshTokens = sqliteTable(
  "refreshTokens",
  {
    id: text("id").primaryKey(),
    userId: text("userId").notNull(),
    familyId: text("familyId").notNull(),
    tokenHash: text("tokenHash").notNull(),
    expiresAt: integer("expiresAt").notNull(),
    rotatedAt: integer("rotatedAt"),
    revokedAt: integer("revokedAt"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [uniqueIndex("refreshTokens_by_tokenHash").on(t.tokenHash), index("refreshTokens_by_family").on(t.familyId)],
);

/** (+) Stripe events seen by the webhook (replays are recognised by id). */
export const stripeEvents = sqliteTable(
  "stripeEvents",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    checkoutSessionId: text("checkoutSessionId"),
    orderId: text("orderId"),
    receivedAt: integer("receivedAt").notNull(),
    /** Set by the job once the event's effect is durable (or it was found to need none): tests wait on it. */
    processedAt: integer("processedAt"),
    /** What processing did: `credited`, `reversed`, `nothing`, `refunded_late_payment`, `mismatch`, … */
    outcome: text("outcome"),
  },
  (t) => [index("stripeEvents_by_order").on(t.orderId)],
);

export const cardRefundReasons = ["admin", "late_payment"] as const;
export const cardRefundStatuses = ["pending", "succeeded", "failed"] as const;

/** (+) Refunds this platform asked Stripe for (admin refunds, payments that arrived for settled orders). */
export const cardRefunds = sqliteTable(
  "cardRefunds",
  {
    id: text("id").primaryKey(),
    orderId: text("orderId").notNull(),
    /** Our Idempotency-Key for `POST /v1/refunds`: one refund per key, whatever the retries. */
    idempotencyKey: text("idempotencyKey").notNull(),
    amountCents: integer("amountCents").notNull(),
    credits: integer("credits").notNull(),
    reason: text("reason", { enum: cardRefundReasons }).notNull(),
    status: text("status", { enum: cardRefundStatuses }).notNull(),
    stripeRefundId: text("stripeRefundId"),
    failureReason: text("failureReason"),
    actorUserId: text("actorUserId"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("cardRefunds_by_idempotencyKey").on(t.idempotencyKey),
    index("cardRefunds_by_order").on(t.orderId, t.createdAt),
    index("cardRefunds_by_createdAt").on(t.createdAt),
    check("cardRefunds_amount_positive", sql`${t.amountCents} > 0 AND ${t.credits} >= 0`),
  ],
);

/** (+) The development test clock's offset (one row); production never reads it. */
export const devClock = sqliteTable("devClock", {
  id: integer("id").primaryKey(),
  offsetMs: integer("offsetMs").notNull(),
  updatedAt: integer("updatedAt").notNull(),
});

/** (+) Responses kept for `Idempotency-Key` replays (at least 24 h). */
export const idempotencyRecords = sqliteTable(
  "idempotencyRecords",
  {
    userId: text("userId").notNull(),
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("requestHash").notNull(),
    state: text("state", { enum: ["in_progress", "done"] }).notNull(),
    responseStatus: integer("responseStatus"),
    responseBody: text("responseBody"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.scope, t.key] }),
    index("idempotencyRecords_by_createdAt").on(t.createdAt),
  ],
);

/** (+) Queue messages that exhausted their retries, kept for admins (never silently dropped). */
export const deadLetters = sqliteTable(
  "deadLetters",
  {
    id: text("id").primaryKey(),
    messageId: text("messageId").notNull(),
    queue: text("queue").notNull(),
    type: text("type"),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    createdAt: integer("createdAt").notNull(),
    /** Set when an admin re-enqueued the job (`POST /v1/admin/dead-letters/:id/replay`). */
    replayedAt: integer("replayedAt"),
    replayCount: integer("replayCount").notNull().default(0),
  },
  (t) => [
    uniqueIndex("deadLetters_by_messageId").on(t.messageId),
    index("deadLetters_by_createdAt").on(t.createdAt, t.id),
  ],
);

/** (+) E-mails handed to the provider, by their idempotency key: a redelivered job never mails twice. */
export const emailDeliveries = sqliteTable("emailDeliveries", {
  idempotencyKey: text("idempotencyKey").primaryKey(),
  providerId: text("providerId"),
  sentAt: integer("sentAt").notNull(),
});
