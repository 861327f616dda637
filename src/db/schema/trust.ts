/**
 * Marketplace trust: students' reviews of completed lessons and the tutor directory's versioned
 * listing (the sort keys of every approved tutor, per subject, over time).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const REVIEW_COMMENT_MAX = 2000;

/** One review per session, by its student; the tutor's `ratingSum`/`ratingCount` move in the same batch. */
export const reviews = sqliteTable(
  "reviews",
  {
    id: text("id").primaryKey(),
    sessionId: text("sessionId").notNull(),
    tutorProfileId: text("tutorProfileId").notNull(),
    studentProfileId: text("studentProfileId").notNull(),
    rating: integer("rating").notNull(),
    comment: text("comment"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("reviews_by_session").on(t.sessionId),
    index("reviews_by_tutor_and_createdAt").on(t.tutorProfileId, t.createdAt, t.id),
    index("reviews_by_student_and_createdAt").on(t.studentProfileId, t.createdAt, t.id),
    check("reviews_rating", sql`${t.rating} BETWEEN 1 AND 5`),
    check("reviews_comment", sql.raw(`"comment" IS NULL OR length("comment") <= ${REVIEW_COMMENT_MAX}`)),
  ],
);

/** `subjectKey` of the rows that list a tutor without a subject filter. */
export const LISTING_ALL_SUBJECTS = "*";
/** `validTo` of a tutor's current version (Number.MAX_SAFE_INTEGER: after every real time). */
export const LISTING_CURRENT = 9007199254740991;

/**
 * The directory as versions: while a tutor is approved, one row per subject (and one under
 * LISTING_ALL_SUBJECTS) holds the sort keys valid over [validFrom, validTo). A change of price,
 * rating, subjects or status closes the current rows and opens new ones in the same batch as the
 * change. A directory walk reads the versions valid at its first page's time, so the tutors it
 * pages through keep their order while ratings change between pages: no tutor twice, none skipped.
 * Each sort reads one covering index (sort keys, id, then the filter columns), never a sort step.
 */
export const tutorListings = sqliteTable(
  "tutorListings",
  {
    id: integer("id").primaryKey(),
    tutorProfileId: text("tutorProfileId").notNull(),
    subjectKey: text("subjectKey").notNull(),
    /** The profile's creation time (the `newest` order). */
    createdAt: integer("createdAt").notNull(),
    hourlyCreditsPrice: integer("hourlyCreditsPrice").notNull(),
    /** ratingSum / ratingCount as SQLite computes it (the same IEEE division as JavaScript); 0 unrated. */
    ratingAverage: real("ratingAverage").notNull(),
    ratingCount: integer("ratingCount").notNull(),
    validFrom: integer("validFrom").notNull(),
    validTo: integer("validTo").notNull(),
    // The card: what the directory shows of the tutor, so a page reads one row per tutor (no
    // profile, subject or link rows). Written with the version; on current rows the trigger
    // `tutorListings_card` keeps it equal to the profile when a shown field changes in place.
    displayName: text("displayName").notNull().default(""),
    bio: text("bio").notNull().default(""),
    avatarS3Key: text("avatarS3Key"),
    timezone: text("timezone"),
    ratingSum: integer("ratingSum").notNull().default(0),
    /** The tutor's subjects as a JSON array of { id, name, slug } (subjects are never renamed). */
    subjectsJson: text("subjectsJson").notNull().default("[]"),
  },
  (t) => [
    index("tutorListings_by_newest").on(
      t.subjectKey,
      t.createdAt,
      t.tutorProfileId,
      t.validTo,
      t.validFrom,
      t.hourlyCreditsPrice,
      t.ratingAverage,
    ),
    index("tutorListings_by_rating").on(
      t.subjectKey,
      t.ratingAverage,
      t.ratingCount,
      t.tutorProfileId,
      t.validTo,
      t.validFrom,
      t.hourlyCreditsPrice,
    ),
    index("tutorListings_by_price").on(
      t.subjectKey,
      t.hourlyCreditsPrice,
      t.tutorProfileId,
      t.validTo,
      t.validFrom,
      t.ratingAverage,
    ),
    /** The tutor's current rows (closing them) and its history. */
    index("tutorListings_by_tutor").on(t.tutorProfileId, t.validTo),
    /** Versions closed long enough ago that no cursor can still need them (the cron deletes them). */
    index("tutorListings_by_validTo").on(t.validTo),
    check("tutorListings_span", sql`${t.validFrom} <= ${t.validTo}`),
    check(
      "tutorListings_rating",
      sql`(${t.ratingCount} = 0 AND ${t.ratingAverage} = 0) OR (${t.ratingCount} > 0 AND ${t.ratingAverage} BETWEEN 1 AND 5)`,
    ),
  ],
);
