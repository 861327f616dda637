/**
 * Cron sweep: a report draft publishes itself at `autoPublishAt` (REPORT_REVIEW_HOURS after the model
 * wrote it) when its tutor has not published it. Reads the due drafts on the partial index
 * `lessonReports_drafts_by_due`, skipping drafts with a live regeneration (they get a new window
 * when it writes); each publication is the guarded batch of drafts.ts (the student's `report_ready`
 * included), so overlapping runs, or a tutor publishing at the same moment, publish once. A backlog
 * larger than one batch drains over the next cron runs.
 */
import { and, asc, eq, lte, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { lessonReports, sessions } from "../../db/schema";
import { GENERATION_STALE_MS, publishDraft, reportParties } from "./drafts";

export const AUTO_PUBLISH_BATCH = 50;

export async function autoPublishReports(svc: ServiceContext, now = svc.clock.now()): Promise<{ published: number }> {
  const due = await svc.db
    .select()
    .from(lessonReports)
    .where(
      and(
        // a literal, so the planner can use the partial index
        sql`${lessonReports.status} = 'draft'`,
        lte(lessonReports.autoPublishAt, now),
        sql`(${lessonReports.generationId} IS NULL OR ${lessonReports.generationStartedAt} < ${now - GENERATION_STALE_MS})`,
      ),
    )
    .orderBy(asc(lessonReports.autoPublishAt), asc(lessonReports.id))
    .limit(AUTO_PUBLISH_BATCH);
  let published = 0;
  for (const report of due) {
    const session = await svc.db.query.sessions.findFirst({ where: eq(sessions.id, report.sessionId) });
    if (!session) continue;
    try {
      if (await publishDraft(svc, report, await reportParties(svc, session))) published++;
    } catch (err) {
      // one report's failure must not stop the others; the next run tries it again
      console.log(
        JSON.stringify({ level: "error", msg: "report auto-publish failed", reportId: report.id, error: String(err) }),
      );
    }
  }
  if (published) console.log(JSON.stringify({ level: "info", msg: "report drafts auto-published", published }));
  return { published };
}
