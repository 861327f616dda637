import { reportStatuses, reportVersionSources, transcriptionStatuses } from "../../db/schema";
import { idParamsOf, pageOf, pageQuery, z } from "../../http/openapi";

export const sessionIdParams = idParamsOf("ses");
export const recordingIdParams = idParamsOf("rec");

export const uploadAccepted = z
  .object({ id: z.string(), sessionId: z.string(), transcriptionStatus: z.literal("pending") })
  .openapi("RecordingAccepted");

export const recordingSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    transcriptionStatus: z.enum(transcriptionStatuses),
    transcriptionText: z.string().optional(),
    transcriptionMeta: z.object({ confidence: z.number(), language: z.string() }).optional(),
    transcriptionError: z.string().optional(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("Recording");

export const reportSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    studentProfileId: z.string(),
    tutorProfileId: z.string(),
    summary: z.string(),
    topicsCovered: z.array(z.string()),
    nextSteps: z.array(z.string()),
    status: z.enum(reportStatuses),
    /** The number of the current text among the report's versions. */
    version: z.number().int(),
    /** The current text is a person's edit of the model's. */
    editedByTutor: z.boolean(),
    publishedAt: z.number().int().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("LessonReport");

export const reportVersionSchema = z
  .object({
    id: z.string(),
    reportId: z.string(),
    version: z.number().int(),
    summary: z.string(),
    topicsCovered: z.array(z.string()),
    nextSteps: z.array(z.string()),
    source: z.enum(reportVersionSources),
    instructions: z.string().nullable(),
    authorUserId: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .openapi("LessonReportVersion");
export const reportVersionPage = pageOf(reportVersionSchema);
export const reportVersionQuery = z.object(pageQuery);

/** Bounds of an edited report: what a lesson report reasonably holds. */
const reportText = z.string().trim().min(1).max(4000);
const reportItems = z.array(z.string().trim().min(1).max(300)).max(30);

export const reportEditBody = z
  .strictObject({
    summary: reportText.optional(),
    topicsCovered: reportItems.optional(),
    nextSteps: reportItems.optional(),
  })
  .refine((b) => b.summary !== undefined || b.topicsCovered !== undefined || b.nextSteps !== undefined, {
    message: "Send at least one of summary, topicsCovered, nextSteps",
  })
  .openapi("LessonReportEdit");

export const regenerateBody = z
  .strictObject({ instructions: z.string().trim().min(1).max(500).optional() })
  .openapi("LessonReportRegenerate");

export const regenerateAccepted = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    generationId: z.string(),
    /** Generations used so far, this one included, of the session's maximum. */
    generations: z.number().int(),
    maxGenerations: z.number().int(),
  })
  .openapi("LessonReportRegenerating");

export const reportPage = pageOf(reportSchema);
export const reportListQuery = z.object(pageQuery);

export const adminRecordingsQuery = z.object({ ...pageQuery, status: z.enum(transcriptionStatuses).optional() });
export const adminRecordingPage = pageOf(recordingSchema);

export const webhookLogQuery = z.object({
  ...pageQuery,
  requestId: z.string().min(1).max(200).optional(),
  recordingId: z.string().min(1).max(100).optional(),
});

export const webhookLogSchema = z
  .object({
    id: z.string(),
    sessionRecordingId: z.string().nullable(),
    requestId: z.string(),
    eventType: z.string(),
    payload: z.string(),
    processedAt: z.number().int(),
  })
  .openapi("DeepgramWebhookLog");
export const webhookLogPage = pageOf(webhookLogSchema);

export const webhookAck = z.object({
  received: z.literal(true),
  action: z.enum(["completed", "failed", "ignored"]),
});

/** What the lesson-report model must answer (strict structured output). */
export const reportContent = z.strictObject({
  summary: z.string(),
  topicsCovered: z.array(z.string()),
  nextSteps: z.array(z.string()),
});
export type ReportContent = z.infer<typeof reportContent>;
