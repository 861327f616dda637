/**
 * Reading and reviewing lesson reports (docs/reports.md). The student of the session sees a report
 * only once it is published (a draft is 404, as if there were none); the tutor of the session and
 * admins see drafts, and only they edit, regenerate, publish or list versions (anyone else: 404).
 *
 * While a regeneration runs (a live `generationId`, younger than GENERATION_STALE_MS) the draft
 * cannot be edited or published (409): the model's answer would overwrite the edit, or turn the
 * published report back into a draft. A stale slot (its job died) no longer blocks: an edit or a
 * publication clears it, so the late answer, if one comes, is dropped.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { lessonReports, lessonReportVersions, MAX_REPORT_GENERATIONS } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, notFound } from "../../lib/errors";
import { enqueue } from "../../queues/enqueue";
import { accessSession } from "../sessions/access";
import {
  GENERATION_STALE_MS,
  generationRunning,
  publishDraft,
  type ReportRow,
  reportParties,
  writeEdit,
} from "./drafts";
import type { ReportContent } from "./schemas";

export type { ReportRow };

type VersionRow = typeof lessonReportVersions.$inferSelect;

export function reportView(r: ReportRow) {
  return {
    id: r.id,
    sessionId: r.sessionId,
    studentProfileId: r.studentProfileId,
    tutorProfileId: r.tutorProfileId,
    summary: r.summary,
    topicsCovered: r.topicsCovered,
    nextSteps: r.nextSteps,
    status: r.status,
    version: r.version,
    editedByTutor: r.editedByTutor,
    publishedAt: r.publishedAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function versionView(v: VersionRow) {
  return {
    id: v.id,
    reportId: v.reportId,
    version: v.version,
    summary: v.summary,
    topicsCovered: v.topicsCovered,
    nextSteps: v.nextSteps,
    source: v.source,
    instructions: v.instructions,
    authorUserId: v.authorUserId,
    createdAt: v.createdAt,
  };
}

const findReport = (svc: ServiceContext, sessionId: string) =>
  svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.sessionId, sessionId) });

export async function getReport(svc: ServiceContext, auth: Auth, sessionId: string) {
  const { session, asTutor, asAdmin } = await accessSession(svc, auth, sessionId);
  const row = await findReport(svc, session.id);
  if (!row || (row.status !== "published" && !asTutor && !asAdmin)) throw notFound("Report");
  return reportView(row);
}

/** The report a reviewer (the session's tutor or an admin) acts on; 404 for anyone else. */
async function reviewable(svc: ServiceContext, auth: Auth, sessionId: string) {
  const { session, asTutor, asAdmin } = await accessSession(svc, auth, sessionId);
  if (!asTutor && !asAdmin) throw notFound("Report");
  const report = await findReport(svc, session.id);
  if (!report) throw notFound("Report");
  return { session, report, asTutor };
}

/** Why a draft cannot be changed now (409), or undefined if it can. */
function blocked(report: ReportRow, now: number) {
  if (report.status === "published") return conflict("The report is published; it can no longer be changed");
  if (generationRunning(report, now)) return conflict("A new version of the report is being generated; try again");
  return undefined;
}

/** Reads the report again after a guarded write lost a race, and says why (409). */
async function lostRace(svc: ServiceContext, sessionId: string) {
  const fresh = await findReport(svc, sessionId);
  if (!fresh) return notFound("Report");
  return blocked(fresh, svc.clock.now()) ?? conflict("The report changed meanwhile; reload it and try again");
}

export async function editReport(svc: ServiceContext, auth: Auth, sessionId: string, edit: Partial<ReportContent>) {
  const { report, asTutor } = await reviewable(svc, auth, sessionId);
  const why = blocked(report, svc.clock.now());
  if (why) throw why;
  const text: ReportContent = {
    summary: edit.summary ?? report.summary,
    topicsCovered: edit.topicsCovered ?? report.topicsCovered,
    nextSteps: edit.nextSteps ?? report.nextSteps,
  };
  // an admin who is also the session's tutor edits as its tutor
  const written = await writeEdit(svc, report, text, {
    source: asTutor ? "tutor" : "admin",
    authorUserId: auth.userId,
  });
  if (!written) throw await lostRace(svc, report.sessionId);
  return reportView(written);
}

export async function publishReport(svc: ServiceContext, auth: Auth, sessionId: string) {
  const { session, report } = await reviewable(svc, auth, sessionId);
  const why = blocked(report, svc.clock.now());
  if (why) throw why;
  const written = await publishDraft(svc, report, await reportParties(svc, session));
  if (!written) throw await lostRace(svc, report.sessionId);
  return reportView(written);
}

/**
 * Takes the report's generation slot with one conditional UPDATE (a draft, below the cap, with a
 * stored transcript, no live generation) and counts it, then queues the job. Of parallel requests
 * one takes the slot and the others are 409, so they never pass the cap. If the job cannot be
 * queued, the slot is given back.
 */
export async function regenerateReport(
  svc: ServiceContext,
  auth: Auth,
  sessionId: string,
  instructions: string | undefined,
) {
  const { report } = await reviewable(svc, auth, sessionId);
  const now = svc.clock.now();
  const generationId = newId("gen");
  const [taken] = await svc.db
    .update(lessonReports)
    .set({
      generations: sql`${lessonReports.generations} + 1`,
      generationId,
      generationStartedAt: now,
      updatedAt: now,
    })
    .where(
      and(
        eq(lessonReports.id, report.id),
        sql`${lessonReports.status} = 'draft'`,
        lt(lessonReports.generations, MAX_REPORT_GENERATIONS),
        sql`${lessonReports.rawTranscript} IS NOT NULL`,
        sql`(${lessonReports.generationId} IS NULL OR ${lessonReports.generationStartedAt} < ${now - GENERATION_STALE_MS})`,
      ),
    )
    .returning({ generations: lessonReports.generations });
  if (!taken) {
    const fresh = await findReport(svc, report.sessionId);
    if (!fresh) throw notFound("Report");
    const why = blocked(fresh, now);
    if (why) throw why;
    if (fresh.generations >= MAX_REPORT_GENERATIONS) {
      throw conflict(`This session already had ${MAX_REPORT_GENERATIONS} report generations, the most it may have`);
    }
    if (fresh.rawTranscript === null) throw conflict("The lesson's transcript is no longer stored");
    throw conflict("The report changed meanwhile; reload it and try again");
  }
  try {
    await enqueue(svc, {
      type: "report.regenerate",
      reportId: report.id,
      generationId,
      ...(instructions ? { instructions } : {}),
    });
  } catch (err) {
    await svc.db
      .update(lessonReports)
      .set({ generations: sql`${lessonReports.generations} - 1`, generationId: null, generationStartedAt: null })
      .where(and(eq(lessonReports.id, report.id), eq(lessonReports.generationId, generationId)));
    throw err;
  }
  return {
    id: report.id,
    sessionId: report.sessionId,
    generationId,
    generations: taken.generations,
    maxGenerations: MAX_REPORT_GENERATIONS,
  };
}

export async function listReportVersions(
  svc: ServiceContext,
  auth: Auth,
  sessionId: string,
  q: { limit: number; cursor?: string },
) {
  const { report } = await reviewable(svc, auth, sessionId);
  const after = decodeCursor<[number]>(q.cursor, ["number"]);
  const rows = await svc.db
    .select()
    .from(lessonReportVersions)
    .where(
      and(eq(lessonReportVersions.reportId, report.id), after ? lt(lessonReportVersions.version, after[0]) : undefined),
    )
    .orderBy(desc(lessonReportVersions.version))
    .limit(q.limit + 1);
  return page(rows, q.limit, versionView, (v) => [v.version]);
}

/** The student's published reports, newest publication first (index lessonReports_published_by_student). */
export async function listMyReports(svc: ServiceContext, auth: Auth, q: { limit: number; cursor?: string }) {
  const profileId = auth.user.studentProfileId;
  if (!profileId) return { items: [], nextCursor: null };
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(lessonReports)
    .where(
      and(
        eq(lessonReports.studentProfileId, profileId),
        // a literal, so the planner can use the partial index
        sql`${lessonReports.status} = 'published'`,
        keysetAfter(lessonReports.publishedAt, lessonReports.id, after),
      ),
    )
    .orderBy(desc(lessonReports.publishedAt), desc(lessonReports.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, reportView, (r) => [r.publishedAt ?? 0, r.id]);
}
