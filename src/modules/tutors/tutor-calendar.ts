/**
 * Reads what a booking decision needs about one tutor over a range — profile, rules, weekly hours,
 * sessions and time off — in ONE D1 batch of index reads, and prepares it for `refusal` /
 * `bookableSlots` (booking-rules.ts). The slots listing, booking, series and reschedule all load
 * through here, so they decide on the same data the same way.
 */
import { and, asc, between, eq, gt, gte, inArray, lt, ne } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import {
  sessions,
  TIME_OFF_MAX_MS,
  tutorAvailability,
  tutorBookingRules,
  tutorProfiles,
  tutorTimeOff,
} from "../../db/schema";
import type { Interval } from "./availability";
import { type BookingRules, prepareCalendar, rulesOf, SESSIONS_MARGIN_MS, type TutorCalendar } from "./booking-rules";
import { PUBLIC_TUTOR_STATUS } from "./service";

/** The query of a tutor's rules row (none: the defaults), on its primary key. */
export const rulesQuery = (svc: ServiceContext, tutorProfileId: string) =>
  svc.db
    .select({
      minNoticeMinutes: tutorBookingRules.minNoticeMinutes,
      bufferBeforeMinutes: tutorBookingRules.bufferBeforeMinutes,
      bufferAfterMinutes: tutorBookingRules.bufferAfterMinutes,
      maxSessionsPerDay: tutorBookingRules.maxSessionsPerDay,
      horizonDays: tutorBookingRules.horizonDays,
    })
    .from(tutorBookingRules)
    .where(eq(tutorBookingRules.tutorProfileId, tutorProfileId))
    .limit(1);

export async function loadRules(svc: ServiceContext, tutorProfileId: string): Promise<BookingRules> {
  const [row] = await rulesQuery(svc, tutorProfileId);
  return rulesOf(row, svc.config.BOOKING_MIN_NOTICE_MINUTES);
}

/** The tutor's time off overlapping `[from, to)`: a range on (tutorProfileId, startTime). */
export const timeOffQuery = (svc: ServiceContext, tutorProfileId: string, from: number, to: number) =>
  svc.db
    .select({ id: tutorTimeOff.id, startTime: tutorTimeOff.startTime, endTime: tutorTimeOff.endTime })
    .from(tutorTimeOff)
    .where(
      and(
        eq(tutorTimeOff.tutorProfileId, tutorProfileId),
        lt(tutorTimeOff.startTime, to),
        gt(tutorTimeOff.startTime, from - TIME_OFF_MAX_MS),
        gt(tutorTimeOff.endTime, from),
      ),
    );

export interface LoadedCalendar {
  profile: { id: string; timezone: string | null } | undefined;
  calendar: TutorCalendar;
}

/** Every time zone's offset lies within UTC−12 … UTC+14. */
const MIN_OFFSET_MS = -12 * 3_600_000;
const MAX_OFFSET_MS = 14 * 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The weekdays (0 = Sunday) on which some instant of `[from, to)` falls in some time zone, or
 * undefined when that is the whole week. The query is built before the tutor's time zone is read
 * (it is in the same batch), so it covers every offset: at most three weekdays for a lesson.
 */
export function localWeekdays(from: number, to: number): number[] | undefined {
  const first = Math.floor((from + MIN_OFFSET_MS) / DAY_MS);
  const last = Math.floor((Math.max(from, to - 1) + MAX_OFFSET_MS) / DAY_MS);
  if (last - first >= 6) return undefined;
  // day 0 of the epoch (1970-01-01) was a Thursday, weekday 4
  return Array.from({ length: last - first + 1 }, (_, i) => (((first + i + 4) % 7) + 7) % 7);
}

const isRun = (days: number[]) => days.every((d, i) => i === 0 || d === (days[i - 1] as number) + 1);

type CalendarOptions = { publicOnly?: boolean; movingSessionId?: string; now?: number };

/**
 * The five index reads of a tutor's calendar inside `[from, to)`, for a caller that batches them with
 * its own reads (booking: one round trip for everything it decides on). `publicOnly` reads the
 * profile only if it is approved (the public listing).
 */
export function calendarQueries(
  svc: Pick<ServiceContext, "db">,
  tutorProfileId: string,
  from: number,
  to: number,
  opts: CalendarOptions = {},
) {
  const days = localWeekdays(from, to);
  return [
    svc.db
      .select({ id: tutorProfiles.id, timezone: tutorProfiles.timezone })
      .from(tutorProfiles)
      .where(
        and(
          eq(tutorProfiles.id, tutorProfileId),
          opts.publicOnly ? eq(tutorProfiles.status, PUBLIC_TUTOR_STATUS) : undefined,
        ),
      )
      .limit(1),
    rulesQuery(svc as ServiceContext, tutorProfileId),
    svc.db
      .select({
        weekday: tutorAvailability.weekday,
        start: tutorAvailability.start,
        end: tutorAvailability.end,
        timezone: tutorAvailability.timezone,
      })
      .from(tutorAvailability)
      .where(
        and(
          eq(tutorAvailability.tutorProfileId, tutorProfileId),
          // a booking reads the weekdays its interval can fall on, not the whole week (a slots window does)
          days === undefined
            ? undefined
            : isRun(days)
              ? between(tutorAvailability.weekday, days[0] as number, days.at(-1) as number) // one index range
              : inArray(tutorAvailability.weekday, days), // across Saturday → Sunday
        ),
      )
      .orderBy(asc(tutorAvailability.weekday), asc(tutorAvailability.start)),
    svc.db
      .select({ id: sessions.id, startTime: sessions.startTime, endTime: sessions.endTime })
      .from(sessions)
      .where(
        and(
          eq(sessions.tutorProfileId, tutorProfileId),
          gte(sessions.startTime, from - SESSIONS_MARGIN_MS),
          lt(sessions.startTime, to + SESSIONS_MARGIN_MS),
          ne(sessions.status, "cancelled"),
        ),
      ),
    timeOffQuery(svc as ServiceContext, tutorProfileId, from, to),
  ] as const;
}

type Q = ReturnType<typeof calendarQueries>;
/** What the batch of `calendarQueries` answers, in its order. */
export type CalendarResults = readonly [Awaited<Q[0]>, Awaited<Q[1]>, Awaited<Q[2]>, Awaited<Q[3]>, Awaited<Q[4]>];

/** The calendar from the results of `calendarQueries`, in their order. */
export function calendarFrom(
  svc: Pick<ServiceContext, "config" | "clock">,
  [profiles, ruleRows, availabilityRows, sessionRows, timeOffRows]: CalendarResults,
  from: number,
  to: number,
  opts: CalendarOptions = {},
): LoadedCalendar {
  const profile = profiles[0];
  const calendar = prepareCalendar(
    {
      // the profile's zone: the one the booking's SQL guard compares (availability rows copy it)
      timezone: profile?.timezone ?? availabilityRows[0]?.timezone ?? null,
      weekly: availabilityRows.map(({ weekday, start, end }) => ({ weekday, start, end })),
      rules: rulesOf(ruleRows[0], svc.config.BOOKING_MIN_NOTICE_MINUTES),
      sessions: sessionRows.filter((s) => s.id !== opts.movingSessionId).map((s): Interval => [s.startTime, s.endTime]),
      timeOff: timeOffRows.map((t): Interval => [t.startTime, t.endTime]),
      now: opts.now ?? svc.clock.now(),
    },
    from,
    to,
  );
  return { profile, calendar };
}

/**
 * The tutor's calendar for decisions inside `[from, to)`, in one batch; `movingSessionId` leaves
 * that session out (a reschedule).
 */
export async function loadTutorCalendar(
  svc: ServiceContext,
  tutorProfileId: string,
  from: number,
  to: number,
  opts: CalendarOptions = {},
): Promise<LoadedCalendar> {
  const results = await svc.db.batch(calendarQueries(svc, tutorProfileId, from, to, opts));
  return calendarFrom(svc, results, from, to, opts);
}
