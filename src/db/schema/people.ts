/** Accounts and profiles: users, student and tutor profiles, the tutor catalogue links and availability, subjects. */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { tutorStatuses, userContexts } from "./enums";

export { type TutorStatus, tutorStatuses, type UserContext, userContexts } from "./enums";

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name"),
    context: text("context", { enum: userContexts }).notNull(),
    studentProfileId: text("studentProfileId"),
    tutorProfileId: text("tutorProfileId"),
    /** (+) Set when the account was closed (`DELETE /v1/me`); the row stays, pseudonymized, for accounting. */
    deletedAt: integer("deletedAt"),
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
    /** (+) Only `approved` tutors are public and bookable; a closed account's profile is `suspended`. */
    status: text("status", { enum: tutorStatuses }).notNull().default("approved"),
    statusReason: text("statusReason"),
    /** (+) When an admin last changed `status` (`POST /v1/admin/tutors/:id/status`). */
    statusChangedAt: integer("statusChangedAt"),
    /** (+) Σ and count of the tutor's review ratings, written in the review's own batch: the average is sum / count. */
    ratingSum: integer("ratingSum").notNull().default(0),
    ratingCount: integer("ratingCount").notNull().default(0),
    /**
     * (+) The start of the tutor's newest directory version (`tutorListings`); it only grows, so a
     * tutor's versions never overlap in time even when two writers' clocks disagree.
     */
    listedAt: integer("listedAt").notNull().default(0),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull(),
  },
  (t) => [
    uniqueIndex("tutorProfiles_by_user").on(t.userId),
    check("tutorProfiles_price_positive", sql`${t.hourlyCreditsPrice} > 0`),
    check(
      "tutorProfiles_rating",
      sql`${t.ratingCount} >= 0 AND ${t.ratingSum} BETWEEN ${t.ratingCount} AND 5 * ${t.ratingCount}`,
    ),
    index("tutorProfiles_by_status").on(t.status, t.createdAt, t.id),
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
