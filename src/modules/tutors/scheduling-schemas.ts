/** Request and response shapes of a tutor's booking rules and time off. */
import { BOOKING_RULE_LIMITS, TIME_OFF_MAX_MS } from "../../db/schema";
import { idParamsOf, pageOf, pageQuery, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { MAX_EPOCH_MS } from "./schemas";

const L = BOOKING_RULE_LIMITS;
const buffer = z
  .number()
  .int()
  .min(L.bufferMinutes.min)
  .max(L.bufferMinutes.max)
  .refine((v) => v % L.bufferMinutes.step === 0, `Must be a multiple of ${L.bufferMinutes.step}`);

export const bookingRulesBody = z
  .strictObject({
    minNoticeMinutes: z.number().int().min(L.minNoticeMinutes.min).max(L.minNoticeMinutes.max),
    bufferBeforeMinutes: buffer,
    bufferAfterMinutes: buffer,
    maxSessionsPerDay: z.number().int().min(L.maxSessionsPerDay.min).max(L.maxSessionsPerDay.max).nullable(),
    horizonDays: z.number().int().min(L.horizonDays.min).max(L.horizonDays.max),
  })
  .openapi("BookingRules", {
    description:
      "Minimum notice, buffers kept between sessions (before + after), at most this many sessions starting on one local day, and how many days ahead",
  });

const epochMs = z.number().int().min(0).max(MAX_EPOCH_MS);

export const timeOffBody = z
  .strictObject({
    startTime: epochMs,
    endTime: epochMs,
    note: humanText({ max: 500, multiline: true }).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.endTime <= v.startTime)
      ctx.addIssue({ code: "custom", path: ["endTime"], message: "Must be after startTime" });
    else if (v.endTime - v.startTime > TIME_OFF_MAX_MS) {
      ctx.addIssue({ code: "custom", path: ["endTime"], message: "A time off lasts at most 90 days" });
    }
  })
  .openapi("CreateTimeOff");

export const timeOffSchema = z
  .object({
    id: z.string(),
    startTime: z.number().int(),
    endTime: z.number().int(),
    note: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .openapi("TimeOff");

export const createdTimeOffSchema = timeOffSchema
  .extend({
    conflictingSessionIds: z
      .array(z.string())
      .openapi({ description: "Sessions already booked inside it: not cancelled, for the tutor to handle" }),
  })
  .openapi("CreatedTimeOff");

export const timeOffPage = pageOf(timeOffSchema);
export const timeOffListQuery = z.object({ ...pageQuery });
export const timeOffParams = idParamsOf("tof");

export type BookingRulesBody = z.infer<typeof bookingRulesBody>;
export type TimeOffBody = z.infer<typeof timeOffBody>;
