import {
  cancelledByValues,
  noShowParties,
  reportStatuses,
  SERIES_COUNT,
  sessionStatuses,
  settlementStatuses,
  transcriptionStatuses,
} from "../../db/schema";
import { idParamsOf, pageOf, pageQuery, queryInt, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { MAX_EPOCH_MS } from "../tutors/schemas";

const QUARTER_MS = 15 * 60 * 1000;
const epochMs = queryInt(0, MAX_EPOCH_MS);

export const sessionSchema = z
  .object({
    id: z.string(),
    tutorProfileId: z.string(),
    studentProfileId: z.string(),
    subjectId: z.string().nullable(),
    startTime: z.number().int(),
    endTime: z.number().int(),
    status: z.enum(sessionStatuses),
    creditsCost: z.number().int(),
    agoraChannelName: z.string().nullable(),
    videoSessionUrl: z.string().nullable(),
    cancelledAt: z.number().int().nullable(),
    cancelledBy: z.enum(cancelledByValues).nullable(),
    cancellationReason: z.string().nullable(),
    refunded: z.boolean(),
    rescheduledAt: z.number().int().nullable(),
    seriesId: z
      .string()
      .nullable()
      .openapi({ description: "The weekly series it was booked in; null for a single booking" }),
    noShow: z.enum(noShowParties).nullable(),
    settlementStatus: z.enum(settlementStatuses),
    /** Credits that went back to the student, and the credits the tutor earned (both 0 while held). */
    refundedCredits: z.number().int(),
    earnedCredits: z.number().int(),
    tutorEarningsCents: z.number().int(),
    settledAt: z.number().int().nullable(),
    disputedAt: z.number().int().nullable(),
    disputeReason: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("Session");

export const sessionPage = pageOf(sessionSchema);

const partySchema = z.object({ userId: z.string(), displayName: z.string() }).nullable();

/** The back office's view of one session: who is in it, and whether a recording and a report exist. */
export const adminSessionSchema = sessionSchema
  .extend({
    student: partySchema.openapi({ description: "The student's user and display name" }),
    tutor: partySchema.openapi({ description: "The tutor's user and display name" }),
    recording: z
      .object({
        id: z.string(),
        transcriptionStatus: z.enum(transcriptionStatuses),
        createdAt: z.number().int(),
        updatedAt: z.number().int(),
      })
      .nullable()
      .openapi({
        description:
          "The current upload (a new one replaces it); null when none (`GET /v1/sessions/:id/recording` has the transcript)",
      }),
    report: z
      .object({
        id: z.string(),
        status: z.enum(reportStatuses),
        version: z.number().int(),
        publishedAt: z.number().int().nullable(),
      })
      .nullable()
      .openapi({
        description: "The lesson report's state; null when none (`GET /v1/sessions/:id/report` has its text)",
      }),
  })
  .openapi("AdminSession");

export const bookBody = z
  .strictObject({
    tutorProfileId: z.string().min(1).max(100),
    subjectId: z.string().min(1).max(100),
    startTime: z
      .number()
      .int()
      .min(0)
      .max(MAX_EPOCH_MS)
      .refine((v) => v % QUARTER_MS === 0, "startTime must fall on a 15-minute boundary"),
    durationMinutes: z
      .number()
      .int()
      .min(30)
      .max(180)
      .refine((v) => v % 15 === 0, "durationMinutes must be a multiple of 15"),
  })
  .openapi("BookSession");

export const seriesBody = bookBody
  .extend({
    count: z
      .number()
      .int()
      .min(SERIES_COUNT.min)
      .max(SERIES_COUNT.max)
      .describe("How many weekly lessons, the first at startTime"),
  })
  .strict()
  .openapi("BookSeries");

export const seriesSchema = z
  .object({ seriesId: z.string(), sessions: z.array(sessionSchema) })
  .openapi("SessionSeries");

export const seriesSessionsSchema = z.object({ sessions: z.array(sessionSchema) }).openapi("SeriesSessions");

export const rescheduleBody = z
  .strictObject({
    startTime: z
      .number()
      .int()
      .min(0)
      .max(MAX_EPOCH_MS)
      .refine((v) => v % QUARTER_MS === 0, "startTime must fall on a 15-minute boundary"),
  })
  .openapi("RescheduleSession");

export const cancelBody = z
  .strictObject({ reason: humanText({ max: 500, multiline: true }).optional() })
  .openapi("CancelSession");

export const noShowBody = z
  .strictObject({ party: z.enum(noShowParties).describe("Who did not show up") })
  .openapi("ReportNoShow");

export const disputeBody = z
  .strictObject({ reason: humanText({ min: 1, max: 2000, multiline: true }) })
  .openapi("DisputeSession");

/** `refundCredits` is bounded by the session's `creditsCost` too (checked against the session: 400). */
export const resolveBody = z
  .strictObject({
    refundCredits: z.number().int().min(0),
    note: humanText({ min: 1, max: 2000, multiline: true }),
  })
  .openapi("ResolveSession");

export const idParams = idParamsOf("ses");

export const listQuery = z.object({
  ...pageQuery,
  as: z.enum(["student", "tutor"]).optional(),
  status: z.enum(sessionStatuses).optional(),
  from: epochMs.optional(),
  to: epochMs.optional(),
});

export const adminListQuery = z.object({
  ...pageQuery,
  status: z.enum(sessionStatuses).optional(),
  settlementStatus: z.enum(settlementStatuses).optional(),
  from: epochMs.optional(),
  to: epochMs.optional(),
});

export const joinSchema = z.object({ url: z.string(), role: z.enum(["host", "viewer"]) }).openapi("JoinLink");

export type DisputeRequest = z.infer<typeof disputeBody>;
export type ResolveRequest = z.infer<typeof resolveBody>;
export type RescheduleRequest = z.infer<typeof rescheduleBody>;
export type BookRequest = z.infer<typeof bookBody>;
export type SeriesRequest = z.infer<typeof seriesBody>;
export type SessionView = z.infer<typeof sessionSchema>;
export type ListQuery = z.infer<typeof listQuery>;
export type AdminListQuery = z.infer<typeof adminListQuery>;
