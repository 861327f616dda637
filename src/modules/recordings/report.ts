/**
 * The `report.generate` job: turns a completed transcript into a lesson report with OpenAI
 * structured output (`response_format: json_schema`, strict, from the zod schema `reportContent`),
 * stores it (one per session: a regenerated report replaces the previous one) and notifies the
 * student and the tutor once per recording.
 *
 * Failures: 5xx / 429 / network → ProviderError(transient), the queue retries. A refusal, a
 * truncated answer (`finish_reason: "length"`), an answer not matching the schema or a 4xx are
 * recorded in the recording's `transcriptionError` ("Report generation failed: …"; its status stays
 * `completed`) and an admin can retry.
 */
import { and, eq, isNotNull, isNull, notExists } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import {
  lessonReports,
  sessionRecordings,
  sessions,
  studentProfiles,
  subjects,
  tutorProfiles,
  users,
} from "../../db/schema";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { OpenAIRefusal, structuredOutput } from "../../providers/openai";
import { enqueueEmail } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { insertNotification } from "../notifications/store";
import { type ReportContent, reportContent } from "./schemas";

export const MAX_TRANSCRIPT_CHARS = 60_000;

class ReportFailure extends Error {}

export function reportPrompt(input: { subject: string; tutor: string; student: string; transcript: string }) {
  const transcript =
    input.transcript.length > MAX_TRANSCRIPT_CHARS
      ? `${input.transcript.slice(0, MAX_TRANSCRIPT_CHARS)}\n[transcript truncated]`
      : input.transcript;
  return [
    {
      role: "system" as const,
      content:
        "You write short, factual lesson reports for a tutoring platform. Use only what the transcript says. " +
        "summary: 2-5 sentences addressed to the student. topicsCovered: the concrete topics practised. " +
        "nextSteps: concrete suggestions for what to practise next. Answer in the transcript's language.",
    },
    {
      role: "user" as const,
      content: `Subject: ${input.subject}\nTutor: ${input.tutor}\nStudent: ${input.student}\n\nTranscript:\n${transcript}`,
    },
  ];
}

/** The report from the model; a refusal becomes a stored, readable failure of the recording. */
async function generate(svc: ServiceContext, messages: ReturnType<typeof reportPrompt>): Promise<ReportContent> {
  try {
    return await structuredOutput(svc.config, { name: "lesson_report", schema: reportContent, messages });
  } catch (err) {
    if (err instanceof OpenAIRefusal) throw new ReportFailure(err.message);
    throw err;
  }
}

export async function reportJob(svc: ServiceContext, m: Extract<QueueMessage, { type: "report.generate" }>) {
  const rec = await svc.db.query.sessionRecordings.findFirst({ where: eq(sessionRecordings.id, m.recordingId) });
  if (rec?.transcriptionStatus !== "completed") return;
  const session = await svc.db.query.sessions.findFirst({ where: eq(sessions.id, rec.sessionId) });
  if (!session) return;
  const [student, tutor, subject] = await Promise.all([
    svc.db.query.studentProfiles.findFirst({ where: eq(studentProfiles.id, session.studentProfileId) }),
    svc.db.query.tutorProfiles.findFirst({ where: eq(tutorProfiles.id, session.tutorProfileId) }),
    session.subjectId
      ? svc.db.query.subjects.findFirst({ where: eq(subjects.id, session.subjectId) })
      : Promise.resolve(undefined),
  ]);

  // A redelivered job does not call the model again: the session's report already comes from this
  // transcript. (A report error, or an admin retry, regenerates it.)
  const existing = await svc.db.query.lessonReports.findFirst({ where: eq(lessonReports.sessionId, session.id) });
  let report =
    existing && rec.transcriptionError === null && existing.createdAt >= rec.updatedAt ? existing : undefined;

  if (!report) {
    const fail = async (reason: string) => {
      await svc.db
        .update(sessionRecordings)
        .set({ transcriptionError: `Report generation failed: ${reason}`, updatedAt: svc.clock.now() })
        .where(eq(sessionRecordings.id, rec.id));
    };
    const transcript = rec.transcriptionText?.trim() ?? "";
    if (!transcript) return fail("the transcript is empty");
    let content: ReportContent;
    try {
      content = await generate(
        svc,
        reportPrompt({
          subject: subject?.name ?? "General",
          tutor: tutor?.displayName ?? "the tutor",
          student: student?.displayName ?? "the student",
          transcript,
        }),
      );
    } catch (err) {
      if (err instanceof ReportFailure) return fail(err.message);
      throw err;
    }
    const now = svc.clock.now();
    const fields = {
      studentProfileId: session.studentProfileId,
      tutorProfileId: session.tutorProfileId,
      summary: content.summary,
      topicsCovered: content.topicsCovered,
      nextSteps: content.nextSteps,
      rawTranscript: transcript,
      createdAt: now,
    };
    // An account closed while the model was writing erased the transcript: the copy written here
    // is dropped again in the same transaction (the erasure's own batch covers the other order).
    const [written] = await svc.db.batch([
      svc.db
        .insert(lessonReports)
        .values({ id: newId("rpt"), sessionId: session.id, ...fields })
        .onConflictDoUpdate({ target: lessonReports.sessionId, set: fields })
        .returning(),
      svc.db
        .update(lessonReports)
        .set({ rawTranscript: null })
        .where(
          and(
            eq(lessonReports.sessionId, session.id),
            notExists(
              svc.db
                .select({ id: sessionRecordings.id })
                .from(sessionRecordings)
                .where(and(eq(sessionRecordings.id, rec.id), isNotNull(sessionRecordings.transcriptionText))),
            ),
          ),
        ),
    ]);
    [report] = written;
    if (!report) return;
    if (rec.transcriptionError !== null) {
      await svc.db
        .update(sessionRecordings)
        .set({ transcriptionError: null, updatedAt: now })
        .where(eq(sessionRecordings.id, rec.id));
    }
  }

  // In-app notifications and the student's e-mail are once-only by their keys, so this part also
  // runs on a redelivery (it may be what a crash interrupted).
  const reportId = report.id;
  const recipients = [...new Set([student?.userId, tutor?.userId].filter((u): u is string => typeof u === "string"))];
  if (recipients.length === 0) return;
  await svc.d1.batch(
    recipients.map((userId) =>
      insertNotification(svc.d1, {
        id: newId("ntf"),
        userId,
        type: "report_ready",
        data: { sessionId: session.id, reportId },
        dedupeKey: `report_ready:${rec.id}:${userId}`,
        createdAt: svc.clock.now(),
      }),
    ),
  );
  if (student) {
    // a closed account's address is a pseudonym: nobody to write to
    const user = await svc.db.query.users.findFirst({
      where: and(eq(users.id, student.userId), isNull(users.deletedAt)),
      columns: { email: true },
    });
    if (user) {
      await enqueueEmail(svc, {
        to: user.email,
        idempotencyKey: `report_ready:${rec.id}:${student.userId}`,
        ...templates.reportReady(subject?.name ?? "your lesson", report.summary),
      });
    }
  }
}
