/**
 * Lesson reports and their versions. The model writes a `draft`; the tutor of the session (or an
 * admin) edits, regenerates and publishes it, or it publishes itself at `autoPublishAt`. The
 * student sees a report only once it is published. Every text the report ever had is a row of
 * `lessonReportVersions` (the model's, with the instructions it was given, and each edit).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { reportStatuses, reportVersionSources } from "./enums";

export { type ReportStatus, type ReportVersionSource, reportStatuses, reportVersionSources } from "./enums";

/** The provider bill a session may run up: report generations, whatever started them. */
export const MAX_REPORT_GENERATIONS = 5;

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
    /** (+) Reports written before the review workflow were already shown: the migration publishes them. */
    status: text("status", { enum: reportStatuses }).notNull().default("draft"),
    /** (+) The number of the current text in `lessonReportVersions`. */
    version: integer("version").notNull().default(1),
    /** (+) The current text is a person's edit, not the model's. */
    editedByTutor: integer("editedByTutor", { mode: "boolean" }).notNull().default(false),
    publishedAt: integer("publishedAt"),
    /** (+) When the draft publishes itself (REPORT_REVIEW_HOURS after the model wrote it); null once published. */
    autoPublishAt: integer("autoPublishAt"),
    /** (+) Model generations so far (uploads, regenerations, retries): at most MAX_REPORT_GENERATIONS. */
    generations: integer("generations").notNull().default(1),
    /** (+) The running regeneration (its job id) and when it started; null when none runs. */
    generationId: text("generationId"),
    generationStartedAt: integer("generationStartedAt"),
    createdAt: integer("createdAt").notNull(),
    updatedAt: integer("updatedAt").notNull().default(0),
  },
  (t) => [
    uniqueIndex("lessonReports_by_session").on(t.sessionId),
    index("lessonReports_by_student_and_createdAt").on(t.studentProfileId, t.createdAt),
    /** GET /v1/reports: the student's published reports, newest first. */
    index("lessonReports_published_by_student")
      .on(t.studentProfileId, t.publishedAt, t.id)
      .where(sql`${t.status} = 'published'`),
    /** The auto-publish sweep's work list: drafts by due time. */
    index("lessonReports_drafts_by_due").on(t.autoPublishAt, t.id).where(sql`${t.status} = 'draft'`),
    check("lessonReports_status", sql`${t.status} IN ('draft', 'published')`),
    check(
      "lessonReports_published",
      sql`(${t.status} = 'published') = (${t.publishedAt} IS NOT NULL) AND (${t.status} = 'draft' OR ${t.autoPublishAt} IS NULL)`,
    ),
    check("lessonReports_generations", sql.raw(`"generations" BETWEEN 1 AND ${MAX_REPORT_GENERATIONS}`)),
    check("lessonReports_version", sql`${t.version} >= 1`),
  ],
);

export const lessonReportVersions = sqliteTable(
  "lessonReportVersions",
  {
    id: text("id").primaryKey(),
    reportId: text("reportId").notNull(),
    sessionId: text("sessionId").notNull(),
    version: integer("version").notNull(),
    summary: text("summary").notNull(),
    topicsCovered: text("topicsCovered", { mode: "json" }).$type<string[]>().notNull(),
    nextSteps: text("nextSteps", { mode: "json" }).$type<string[]>().notNull(),
    source: text("source", { enum: reportVersionSources }).notNull(),
    /** The tutor's instructions to the model for a regeneration (null for the first generation and edits). */
    instructions: text("instructions"),
    /** Who edited (a user id) for `tutor`/`admin` versions. */
    authorUserId: text("authorUserId"),
    createdAt: integer("createdAt").notNull(),
  },
  (t) => [
    uniqueIndex("lessonReportVersions_by_report_and_version").on(t.reportId, t.version),
    check("lessonReportVersions_source", sql`${t.source} IN ('model', 'tutor', 'admin')`),
    check("lessonReportVersions_instructions", sql`${t.instructions} IS NULL OR length(${t.instructions}) <= 500`),
  ],
);
