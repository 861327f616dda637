import { tutorStatuses } from "../../db/schema";
import { idParamsOf, pageOf, pageQuery, queryInt, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { isValidTimeZone, parseClock, type WeeklyRange, weeklyProblems } from "./availability";
import { tutorSorts } from "./directory-sql";

/** Most subjects one tutor may teach (also keeps every IN list small). */
export const MAX_TUTOR_SUBJECTS = 20;
/** Most weekly ranges in one availability (each is one insert in the replacing batch). */
export const MAX_WEEKLY_RANGES = 50;
/** Latest instant accepted anywhere (year 2100): keeps date math far from the Date range limit. */
export const MAX_EPOCH_MS = 4_102_444_800_000;
/** Longest span of one slots query. */
export const MAX_SLOTS_RANGE_MS = 31 * 24 * 60 * 60 * 1000;

export const subjectRefSchema = z.object({ id: z.string(), name: z.string(), slug: z.string() }).openapi("SubjectRef");

/** The public face of a tutor (listings and `/v1/tutors/:id`). */
export const tutorSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    bio: z.string(),
    subjects: z.array(subjectRefSchema),
    hourlyCreditsPrice: z.number().int(),
    avatarUrl: z.string().nullable(),
    ratingAverage: z
      .number()
      .nullable()
      .openapi({ description: "The exact mean of the tutor's review ratings (1–5); null before the first review" }),
    ratingCount: z.number().int(),
    timezone: z.string().nullable().openapi({ description: "The tutor's IANA zone (of their availability)" }),
  })
  .openapi("Tutor");

/** The owner's view of their tutor profile: the public fields plus the server-owned ones. */
export const tutorProfileSchema = tutorSchema
  .extend({
    userId: z.string(),
    subjectIds: z.array(z.string()),
    status: z.enum(tutorStatuses).openapi({ description: "Only `approved` profiles are public and bookable" }),
    statusReason: z.string().nullable().openapi({ description: "Why, when not approved (`account_closed`, …)" }),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("TutorProfile");

const profileFields = {
  displayName: humanText({ min: 1, max: 100, name: true }),
  bio: humanText({ max: 5000, multiline: true }),
  subjectIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_TUTOR_SUBJECTS),
  hourlyCreditsPrice: z.number().int().positive().max(1_000_000),
};

export const createTutorProfileBody = z.strictObject(profileFields).openapi("CreateTutorProfile");
export const updateTutorProfileBody = z.strictObject(profileFields).partial().openapi("UpdateTutorProfile");

export type CreateTutorProfileInput = z.infer<typeof createTutorProfileBody>;
export type UpdateTutorProfileInput = z.infer<typeof updateTutorProfileBody>;

const clock = z.string().refine((v) => parseClock(v) !== null, 'Use "HH:MM" between 00:00 and 24:00');

const weeklyRangeSchema = z
  .strictObject({
    weekday: z.number().int().min(0).max(6).openapi({ description: "0 = Sunday … 6 = Saturday" }),
    start: clock,
    end: clock,
  })
  .openapi("WeeklyRange");

export const availabilityBody = z
  .strictObject({
    timezone: z.string().refine(isValidTimeZone, "Unknown IANA time zone").openapi({ example: "Europe/Paris" }),
    weekly: z.array(weeklyRangeSchema).max(MAX_WEEKLY_RANGES),
  })
  .superRefine((body, ctx) => {
    const ranges = toWeeklyRanges(body.weekly);
    if (!ranges) return; // malformed clocks are already reported on their fields
    for (const problem of weeklyProblems(ranges)) {
      ctx.addIssue({ code: "custom", path: problem.path.split("."), message: problem.message });
    }
  })
  .openapi("AvailabilityInput");

export type AvailabilityInput = z.infer<typeof availabilityBody>;

/** "HH:MM" ranges → minute ranges; undefined if any clock is malformed. */
export function toWeeklyRanges(
  weekly: readonly { weekday: number; start: string; end: string }[],
): WeeklyRange[] | undefined {
  const out: WeeklyRange[] = [];
  for (const r of weekly) {
    const start = parseClock(r.start);
    const end = parseClock(r.end);
    if (start === null || end === null) return undefined;
    out.push({ weekday: r.weekday, start, end });
  }
  return out;
}

export const availabilitySchema = z
  .object({ timezone: z.string().nullable(), weekly: z.array(weeklyRangeSchema) })
  .openapi("Availability");

export const tutorIdParams = idParamsOf("tut");

export const tutorListQuery = z.object({
  subject: z.string().min(1).max(64).optional().openapi({ description: "Subject slug (all tutors when absent)" }),
  sort: z.enum(tutorSorts).default("newest").openapi({
    description:
      "`newest` (default), `rating` (highest average first, then most reviews; unrated last), `price_asc`, `price_desc`",
  }),
  maxPrice: queryInt(1, 1_000_000).optional().openapi({ description: "Highest hourlyCreditsPrice" }),
  minRating: z
    .string()
    .regex(/^\d(\.\d{1,2})?$/, "A rating such as 4 or 4.5")
    .transform(Number)
    .pipe(z.number().min(1).max(5))
    .optional()
    .openapi({ type: "number", minimum: 1, maximum: 5, description: "Lowest ratingAverage (excludes unrated tutors)" }),
  ...pageQuery,
});

export const tutorPageSchema = pageOf(tutorSchema).openapi("TutorPage");

const epochMs = queryInt(0, MAX_EPOCH_MS);

export const slotsQuery = z.object({
  from: epochMs.openapi({ description: "Range start, ms since the epoch", example: 1798761600000 }),
  to: epochMs.openapi({
    description: "Range end (exclusive), ms since the epoch; at most 31 days after from",
    example: 1799366400000,
  }),
  durationMinutes: queryInt(30, 180)
    .refine((v) => v % 15 === 0, "A multiple of 15")
    .default(60)
    .openapi({ description: "30–180, a multiple of 15 (default 60)", default: 60 }),
});

export const slotSchema = z.object({ startTime: z.number().int(), endTime: z.number().int() }).openapi("Slot");
export const slotListSchema = z.object({ items: z.array(slotSchema), nextCursor: z.null() }).openapi("SlotList");
