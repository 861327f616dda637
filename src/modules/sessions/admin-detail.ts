/**
 * `GET /v1/admin/sessions/:id`: one session as the back office shows it, in ONE D1 batch: the
 * session, who its student and tutor are (user ids and display names, so an admin can open them),
 * and whether it has a recording and a report (their latest state), so a client asks for the
 * transcript or the report only when there is one.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { lessonReports, sessionRecordings, sessions, studentProfiles, tutorProfiles } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { sessionView } from "./access";

export async function adminSessionDetail(svc: ServiceContext, id: string) {
  const db = svc.db;
  const [rows, student, tutor, recording, report] = await db.batch([
    db.select().from(sessions).where(eq(sessions.id, id)).limit(1),
    db
      .select({ userId: studentProfiles.userId, displayName: studentProfiles.displayName })
      .from(sessions)
      .innerJoin(studentProfiles, eq(studentProfiles.id, sessions.studentProfileId))
      .where(eq(sessions.id, id)),
    db
      .select({ userId: tutorProfiles.userId, displayName: tutorProfiles.displayName })
      .from(sessions)
      .innerJoin(tutorProfiles, eq(tutorProfiles.id, sessions.tutorProfileId))
      .where(eq(sessions.id, id)),
    // one row per session: a new upload replaces the previous row in the same batch (recordings/service.ts)
    db
      .select({
        id: sessionRecordings.id,
        transcriptionStatus: sessionRecordings.transcriptionStatus,
        createdAt: sessionRecordings.createdAt,
        updatedAt: sessionRecordings.updatedAt,
      })
      .from(sessionRecordings)
      .where(eq(sessionRecordings.sessionId, id))
      .limit(1),
    db
      .select({
        id: lessonReports.id,
        status: lessonReports.status,
        version: lessonReports.version,
        publishedAt: lessonReports.publishedAt,
      })
      .from(lessonReports)
      .where(eq(lessonReports.sessionId, id)),
  ]);
  const session = rows[0];
  if (!session) throw notFound("Session");
  return {
    ...sessionView(session),
    student: student[0] ?? null,
    tutor: tutor[0] ?? null,
    recording: recording[0] ?? null,
    report: report[0] ?? null,
  };
}
