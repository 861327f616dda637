/**
 * Writing lesson reports under review (docs/reports.md): a model generation becomes a new draft
 * version, a publication makes the current version visible to the student. Each write is one D1
 * batch whose statements all carry the same guard on the report row (its version, its running
 * generation, its status), so the version row, the notifications and the update happen together or
 * not at all, and a write that lost a race changes nothing.
 *
 * Notifications, once each by their dedupe keys: `report_draft_ready` to the tutor for every draft
 * version the model writes; `report_ready` to the student for every publication (a version is
 * published at most once: after publication only a new generation makes a new version).
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { lessonReports, type sessions, studentProfiles, subjects, tutorProfiles } from "../../db/schema";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { enqueueEmail } from "../../queues/enqueue";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { userEmail } from "../sessions/service";
import type { ReportContent } from "./schemas";

export type ReportRow = typeof lessonReports.$inferSelect;

/** A regeneration that has not written for this long is presumed dead: another may take its place. */
export const GENERATION_STALE_MS = 15 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** A condition on the lessonReports row (SQL starting with `id = ?`, and its binds). */
export interface RowGuard {
  sql: string;
  binds: unknown[];
}

/** The row is at `version` and no live generation runs on it (a stale one may be overridden). */
export const idleDraftAt = (r: Pick<ReportRow, "id" | "version">, now: number): RowGuard => ({
  sql: "id = ? AND version = ? AND status = 'draft' AND (generationId IS NULL OR generationStartedAt < ?)",
  binds: [r.id, r.version, now - GENERATION_STALE_MS],
});

export const generationRunning = (r: ReportRow, now: number) =>
  r.generationId !== null && (r.generationStartedAt ?? 0) >= now - GENERATION_STALE_MS;

const rowExists = (g: RowGuard): RowGuard => ({
  sql: `EXISTS (SELECT 1 FROM lessonReports WHERE ${g.sql})`,
  binds: g.binds,
});

/** Who a report is about and for: names for the prompt, user ids for notifications. */
export interface ReportParties {
  subject: string;
  student?: { userId: string; name: string };
  tutor?: { userId: string; name: string };
}

export async function reportParties(
  svc: ServiceContext,
  s: Pick<typeof sessions.$inferSelect, "studentProfileId" | "tutorProfileId" | "subjectId">,
): Promise<ReportParties> {
  const [student, tutor, subject] = await Promise.all([
    svc.db.query.studentProfiles.findFirst({ where: eq(studentProfiles.id, s.studentProfileId) }),
    svc.db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.id, s.tutorProfileId) }),
    s.subjectId ? svc.db.query.subjects.findFirst({ where: eq(subjects.id, s.subjectId) }) : Promise.resolve(undefined),
  ]);
  return {
    subject: subject?.name ?? "General",
    ...(student ? { student: { userId: student.userId, name: student.displayName } } : {}),
    ...(tutor ? { tutor: { userId: tutor.userId, name: tutor.displayName } } : {}),
  };
}

const draftReadyKey = (reportId: string, version: number, userId: string) =>
  `report_draft_ready:${reportId}:${version}:${userId}`;
const readyKey = (reportId: string, version: number, userId: string) => `report_ready:${reportId}:${version}:${userId}`;

function notify(
  svc: ServiceContext,
  type: "report_draft_ready" | "report_ready",
  userId: string,
  report: { id: string; sessionId: string; version: number },
  guard: RowGuard,
) {
  const key = type === "report_ready" ? readyKey : draftReadyKey;
  return insertNotification(
    svc.d1,
    {
      id: newId("ntf"),
      userId,
      type,
      data: { sessionId: report.sessionId, reportId: report.id, version: report.version },
      dedupeKey: key(report.id, report.version, userId),
      createdAt: svc.clock.now(),
    },
    rowExists(guard),
  );
}

/**
 * The e-mails of a write that happened (after its batch; the queue delivers them once by key). The
 * change is committed and its in-app notification with it: a queue failure here is logged, never
 * turned into an error (a client retrying a publish would only get 409; a job retry would skip).
 */
async function mailAfter(
  svc: ServiceContext,
  parties: ReportParties,
  report: { id: string; version: number; summary: string },
  what: { draft: boolean; published: boolean },
) {
  try {
    await sendMails(svc, parties, report, what);
  } catch (err) {
    console.log(
      JSON.stringify({ level: "error", msg: "report e-mail not enqueued", reportId: report.id, error: String(err) }),
    );
  }
}

async function sendMails(
  svc: ServiceContext,
  parties: ReportParties,
  report: { id: string; version: number; summary: string },
  what: { draft: boolean; published: boolean },
) {
  if (what.draft && parties.tutor) {
    const to = await userEmail(svc, parties.tutor.userId);
    if (to) {
      await enqueueEmail(svc, {
        to,
        idempotencyKey: draftReadyKey(report.id, report.version, parties.tutor.userId),
        ...templates.reportDraftReady(parties.subject, report.summary, svc.config.REPORT_REVIEW_HOURS),
      });
    }
  }
  if (what.published && parties.student) {
    const to = await userEmail(svc, parties.student.userId);
    if (to) {
      await enqueueEmail(svc, {
        to,
        idempotencyKey: readyKey(report.id, report.version, parties.student.userId),
        ...templates.reportReady(parties.subject, report.summary),
      });
    }
  }
}

function versionInsert(
  svc: ServiceContext,
  version: number,
  text: ReportContent,
  by: { source: "model" | "tutor" | "admin"; instructions?: string | null; authorUserId?: string | null },
  guard: RowGuard,
) {
  return svc.d1
    .prepare(
      `INSERT INTO lessonReportVersions
         (id, reportId, sessionId, version, summary, topicsCovered, nextSteps, source, instructions, authorUserId, createdAt)
       SELECT ?, id, sessionId, ?, ?, ?, ?, ?, ?, ?, ? FROM lessonReports WHERE ${guard.sql}`,
    )
    .bind(
      newId("rpv"),
      version,
      text.summary,
      JSON.stringify(text.topicsCovered),
      JSON.stringify(text.nextSteps),
      by.source,
      by.instructions ?? null,
      by.authorUserId ?? null,
      svc.clock.now(),
      ...guard.binds,
    );
}

/** Review window of a draft written now: published at once when REPORT_REVIEW_HOURS is 0. */
function reviewState(svc: ServiceContext, now: number) {
  const hours = svc.config.REPORT_REVIEW_HOURS;
  return hours === 0
    ? { status: "published" as const, publishedAt: now, autoPublishAt: null }
    : { status: "draft" as const, publishedAt: null, autoPublishAt: now + hours * HOUR_MS };
}

/** The session's first report: version 1, generation 1. Returns the row, or undefined if one exists. */
export async function insertFirstReport(
  svc: ServiceContext,
  session: Pick<typeof sessions.$inferSelect, "id" | "studentProfileId" | "tutorProfileId">,
  parties: ReportParties,
  content: ReportContent,
  transcript: string,
  after: D1PreparedStatement[] = [],
): Promise<ReportRow | undefined> {
  const now = svc.clock.now();
  const id = newId("rpt");
  const state = reviewState(svc, now);
  // the fresh id exists only if this batch's insert happened
  const guard: RowGuard = { sql: "id = ?", binds: [id] };
  const head = { id, sessionId: session.id, version: 1 };
  const [inserted] = await svc.d1.batch([
    toStatement(
      svc.d1,
      svc.db
        .insert(lessonReports)
        .values({
          ...head,
          studentProfileId: session.studentProfileId,
          tutorProfileId: session.tutorProfileId,
          ...content,
          rawTranscript: transcript,
          ...state,
          generations: 1,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: lessonReports.sessionId }),
    ),
    versionInsert(svc, 1, content, { source: "model" }, guard),
    ...announce(svc, parties, head, state.status, guard),
    ...(state.status === "published" ? [publishedEvent(svc, head, now)] : []),
    ...after,
  ]);
  if ((inserted?.meta.changes ?? 0) === 0) return undefined;
  if (state.status === "published") announceEvents(svc);
  await mailAfter(svc, parties, { ...head, summary: content.summary }, published(state.status));
  return svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.id, id) });
}

/**
 * `report.published` (the outgoing webhooks' event) for the version this batch published at `now`:
 * after the batch's own write, guarded by its result, so a write that did not happen announces nothing.
 */
function publishedEvent(svc: ServiceContext, report: { id: string; version: number }, now: number) {
  return insertEvent(
    svc.d1,
    {
      type: "report.published",
      objectId: report.id,
      dedupeKey: `report.published:${report.id}:${report.version}`,
      at: now,
    },
    {
      sql: "EXISTS (SELECT 1 FROM lessonReports WHERE id = ? AND version = ? AND status = 'published' AND publishedAt = ?)",
      binds: [report.id, report.version, now],
    },
  );
}

const published = (status: "draft" | "published") => ({ draft: status === "draft", published: status === "published" });

/** A draft version's notice to the tutor, or, when it publishes at once, the publication's to the student. */
function announce(
  svc: ServiceContext,
  parties: ReportParties,
  report: { id: string; sessionId: string; version: number },
  status: "draft" | "published",
  guard: RowGuard,
) {
  const to = status === "draft" ? parties.tutor : parties.student;
  return to ? [notify(svc, status === "draft" ? "report_draft_ready" : "report_ready", to.userId, report, guard)] : [];
}

/**
 * A later generation: the model's text becomes version `base.version + 1`, a draft again (with a new
 * review window), whatever the status was. `guard` says which generation may write (see the callers);
 * `countGeneration` adds it to `generations` here (an upload-driven one; a regeneration counted when
 * it took its slot). `transcript` replaces the stored one (a new recording's). Returns the new row,
 * or undefined when the guard no longer held (nothing was written).
 */
export async function writeGeneration(
  svc: ServiceContext,
  base: ReportRow,
  parties: ReportParties,
  content: ReportContent,
  opts: {
    guard: RowGuard;
    countGeneration: boolean;
    instructions?: string | null;
    transcript?: string;
    /** Statements to run in the same transaction, after the write. */
    after?: D1PreparedStatement[];
  },
): Promise<ReportRow | undefined> {
  const now = svc.clock.now();
  const state = reviewState(svc, now);
  const next = { id: base.id, sessionId: base.sessionId, version: base.version + 1 };
  const statements = [
    versionInsert(svc, next.version, content, { source: "model", instructions: opts.instructions ?? null }, opts.guard),
    ...announce(svc, parties, next, state.status, opts.guard),
    svc.d1
      .prepare(
        `UPDATE lessonReports SET summary = ?, topicsCovered = ?, nextSteps = ?, rawTranscript = COALESCE(?, rawTranscript),
           version = version + 1, editedByTutor = 0, status = ?, publishedAt = ?, autoPublishAt = ?,
           generations = generations + ?, generationId = NULL, generationStartedAt = NULL, updatedAt = ?
         WHERE ${opts.guard.sql}`,
      )
      .bind(
        content.summary,
        JSON.stringify(content.topicsCovered),
        JSON.stringify(content.nextSteps),
        opts.transcript ?? null,
        state.status,
        state.publishedAt,
        state.autoPublishAt,
        opts.countGeneration ? 1 : 0,
        now,
        ...opts.guard.binds,
      ),
  ];
  const event = state.status === "published" ? [publishedEvent(svc, next, now)] : [];
  const results = await svc.d1.batch([...statements, ...event, ...(opts.after ?? [])]);
  if ((results[statements.length - 1]?.meta.changes ?? 0) === 0) return undefined;
  if (event.length > 0) announceEvents(svc);
  await mailAfter(svc, parties, { ...next, summary: content.summary }, published(state.status));
  return svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.id, base.id) });
}

/** A person's edit of a draft: version `base.version + 1`, `editedByTutor`. Undefined if the guard failed. */
export async function writeEdit(
  svc: ServiceContext,
  base: ReportRow,
  text: ReportContent,
  by: { source: "tutor" | "admin"; authorUserId: string },
): Promise<ReportRow | undefined> {
  const now = svc.clock.now();
  const guard = idleDraftAt(base, now);
  const [, updated] = await svc.d1.batch([
    versionInsert(svc, base.version + 1, text, by, guard),
    // a stale generation's late answer must not overwrite the edit: its slot is cleared
    svc.d1
      .prepare(
        `UPDATE lessonReports SET summary = ?, topicsCovered = ?, nextSteps = ?, version = version + 1,
           editedByTutor = 1, generationId = NULL, generationStartedAt = NULL, updatedAt = ?
         WHERE ${guard.sql}`,
      )
      .bind(text.summary, JSON.stringify(text.topicsCovered), JSON.stringify(text.nextSteps), now, ...guard.binds),
  ]);
  if ((updated?.meta.changes ?? 0) === 0) return undefined;
  return svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.id, base.id) });
}

/**
 * Publishes the draft at `base.version` when no live generation runs on it: the student's
 * `report_ready` is part of the same batch. Returns the published row, or undefined if the guard failed.
 */
export async function publishDraft(
  svc: ServiceContext,
  base: ReportRow,
  parties: ReportParties,
): Promise<ReportRow | undefined> {
  const now = svc.clock.now();
  const guard = idleDraftAt(base, now);
  const head = { id: base.id, sessionId: base.sessionId, version: base.version };
  const results = await svc.d1.batch([
    ...announce(svc, parties, head, "published", guard),
    svc.d1
      .prepare(
        `UPDATE lessonReports SET status = 'published', publishedAt = ?, autoPublishAt = NULL,
           generationId = NULL, generationStartedAt = NULL, updatedAt = ?
         WHERE ${guard.sql}`,
      )
      .bind(now, now, ...guard.binds),
    publishedEvent(svc, head, now),
  ]);
  if ((results.at(-2)?.meta.changes ?? 0) === 0) return undefined;
  announceEvents(svc);
  await mailAfter(svc, parties, { ...head, summary: base.summary }, { draft: false, published: true });
  return svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.id, base.id) });
}
