/**
 * (+) Scheduling beyond weekly hours: a tutor's booking rules, their time off, weekly series of
 * lessons and the private calendar feed. docs/scheduling.md explains the rules; the decision "is this
 * interval bookable" is src/modules/tutors/booking-rules.ts, enforced again in SQL at booking.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Limits of the rules (API: PUT /v1/me/tutor-profile/booking-rules); the CHECKs below repeat them. */
export const BOOKING_RULE_LIMITS = {
  minNoticeMinutes: { min: 0, max: 10080 },
  bufferMinutes: { min: 0, max: 120, step: 15 },
  maxSessionsPerDay: { min: 1, max: 24 },
  horizonDays: { min: 1, max: 365 },
} as const;

/** A time off lasts at most this long (90 days); overlap searches on startTime are bounded by it. */
export const TIME_OFF_MAX_MS = 90 * 24 * 60 * 60 * 1000;

/** A weekly series has 2–12 occurrences. */
export const SERIES_COUNT = { min: 2, max: 12 } as const;

/**
 * One row per tutor who set rules; a tutor without a row has the defaults (minimum notice
 * `BOOKING_MIN_NOTICE_MINUTES`, no buffers, no daily cap, 90 days ahead). The booking's INSERT reads
 * the buffers and the cap from this row in the same statement, so a rule is applied as it stands.
 */
export const tutorBookingRules = sqliteTable(
  "tutorBookingRules",
  {
    tutorProfileId: text("tutorProfileId").primaryKey(),
    minNoticeMinutes: integer("minNoticeMinutes").notNull(),
    bufferBeforeMinutes: integer("bufferBeforeMinutes").notNull(),
    bufferAfterMinutes: integer("bufferAfterMinutes").notNull(),
    maxSessionsPerDay: integer("maxSessionsPerDay"),
    horizonDays: integer("horizonDays").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    check("tutorBookingRules_notice", sql`${t.minNoticeMinutes} BETWEEN 0 AND 10080`),
    check(
      "tutorBookingRules_buffers",
      sql`${t.bufferBeforeMinutes} BETWEEN 0 AND 120 AND ${t.bufferBeforeMinutes} % 15 = 0 AND ${t.bufferAfterMinutes} BETWEEN 0 AND 120 AND ${t.bufferAfterMinutes} % 15 = 0`,
    ),
    check("tutorBookingRules_cap", sql`${t.maxSessionsPerDay} IS NULL OR ${t.maxSessionsPerDay} BETWEEN 1 AND 24`),
    check("tutorBookingRules_horizon", sql`${t.horizonDays} BETWEEN 1 AND 365`),
  ],
);

/** A tutor's time off: no slot or booking overlaps it; sessions booked before are left alone. */
export const tutorTimeOff = sqliteTable(
  "tutorTimeOff",
  {
    id: text("id").primaryKey(),
    tutorProfileId: text("tutorProfileId").notNull(),
    startTime: integer("startTime").notNull(),
    endTime: integer("endTime").notNull(),
    note: text("note"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    // overlap with [from, to): startTime in (from − 90 days, to) and endTime > from — one range search
    index("tutorTimeOff_by_tutor_and_start").on(t.tutorProfileId, t.startTime, t.id),
    check(
      "tutorTimeOff_span",
      sql`${t.endTime} > ${t.startTime} AND ${t.endTime} - ${t.startTime} <= ${sql.raw(String(TIME_OFF_MAX_MS))}`,
    ),
  ],
);

/**
 * A weekly series booked in one step. `bookedCount` is computed by the INSERT itself, after the
 * occurrences' INSERTs of the same batch: the CHECK makes the whole batch (sessions, debits,
 * notifications) fail unless every occurrence was booked. All or nothing, enforced by the database.
 */
export const sessionSeries = sqliteTable(
  "sessionSeries",
  {
    id: text("id").primaryKey(),
    studentProfileId: text("studentProfileId").notNull(),
    tutorProfileId: text("tutorProfileId").notNull(),
    subjectId: text("subjectId").notNull(),
    firstStartTime: integer("firstStartTime").notNull(),
    durationMinutes: integer("durationMinutes").notNull(),
    count: integer("count").notNull(),
    /** The tutor's zone the occurrences keep their wall-clock time in. */
    timezone: text("timezone").notNull(),
    bookedCount: integer("bookedCount").notNull(),
    creditsCost: integer("creditsCost").notNull(),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    index("sessionSeries_by_student").on(t.studentProfileId, t.createdAt),
    check("sessionSeries_count", sql`${t.count} BETWEEN 2 AND 12`),
    check("sessionSeries_all_booked", sql`${t.bookedCount} = ${t.count}`),
  ],
);

/**
 * The private iCalendar feed of a user. The URL's token is HMAC(key, userId, nonce): the row keeps
 * the random nonce (to show the same URL again) and the token's SHA-256 (to find the user), never
 * the token, so a leaked table does not open anyone's calendar. Rotating draws a new nonce.
 */
export const calendarFeeds = sqliteTable(
  "calendarFeeds",
  {
    userId: text("userId").primaryKey(),
    nonce: text("nonce").notNull(),
    tokenHash: text("tokenHash").notNull(),
    createdAt: integer("createdAt").notNull(),
    rotatedAt: integer("rotatedAt"),
  },
  (t) => [uniqueIndex("calendarFeeds_by_tokenHash").on(t.tokenHash)],
);
