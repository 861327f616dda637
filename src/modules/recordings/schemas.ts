import { transcriptionStatuses } from "../../db/schema";
import { pageOf, pageQuery, z } from "../../http/openapi";

export const sessionIdParams = z.object({ id: z.string().min(1).max(100) });
export const recordingIdParams = z.object({ id: z.string().min(1).max(100) });

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
    createdAt: z.number().int(),
  })
  .openapi("LessonReport");

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
