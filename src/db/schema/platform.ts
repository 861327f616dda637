import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
    /** (+) When the family's first token was issued: no rotation extends a family past its absolute lifetime. */
    familyStartedAt: integer("familyStartedAt").notNull().default(0),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("refreshTokens_by_tokenHash").on(t.tokenHash),
    index("refreshTokens_by_family").on(t.familyId),
    index("refreshTokens_by_user").on(t.userId, t.revokedAt),
  ],
);

/**
 * (+) Every admin action, written in the same atomic step (D1 batch) as the action itself.
 * Append-only: triggers refuse UPDATE and DELETE (migration 0004).
 */
export const adminAuditLog = sqliteTable(
  "adminAuditLog",
  {
    id: text("id").primaryKey(),
    actorUserId: text("actorUserId").notNull(),
    action: text("action").notNull(),
    targetType: text("targetType").notNull(),
    targetId: text("targetId").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    requestId: text("requestId"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("adminAuditLog_by_createdAt").on(t.createdAt, t.id),
    index("adminAuditLog_by_actor").on(t.actorUserId, t.createdAt, t.id),
    index("adminAuditLog_by_target").on(t.targetId, t.createdAt, t.id),
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
