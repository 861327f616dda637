/**
 * The one decision "may this tutor be booked for `[start, end)`": pure (no I/O), used by the slots
 * listing (for every candidate start), by booking, by a series (for every occurrence) and by
 * rescheduling. The booking's INSERT (src/ledger/booking-sql.ts) enforces the buffered overlap, the
 * time off and the daily cap again in SQL, atomically, so racing writers cannot break a rule that
 * each alone respects; the property test (test/scheduling/slots-agree.test.ts) checks that the listing
 * and the booking never disagree.
 *
 * Rules, in the order a refusal names them: minimum notice (also "not in the past"), horizon,
 * weekly availability, time off, the buffered overlap with the tutor's other sessions, the daily cap
 * (sessions starting on one calendar day of the tutor's zone — a 23- or 25-hour day across DST).
 */
import {
  availabilityWindows,
  DAY_MS,
  type Interval,
  MINUTE_MS,
  mergeIntervals,
  type OffsetPiece,
  offsetPieces,
  SESSION_MAX_SPAN_MS,
  SLOT_STEP_MS,
  type WeeklyRange,
  zoneOffsetMs,
} from "./availability";

export interface BookingRules {
  minNoticeMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  maxSessionsPerDay: number | null;
  horizonDays: number;
}

export const DEFAULT_HORIZON_DAYS = 90;

/** The rules of a tutor who never set any: the deployment's minimum notice, nothing else beyond 90 days. */
export const defaultRules = (minNoticeMinutes: number): BookingRules => ({
  minNoticeMinutes,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  maxSessionsPerDay: null,
  horizonDays: DEFAULT_HORIZON_DAYS,
});

/** A stored rules row (or none) → the rules in force. */
export function rulesOf(row: BookingRules | undefined | null, defaultNoticeMinutes: number): BookingRules {
  if (!row) return defaultRules(defaultNoticeMinutes);
  return {
    minNoticeMinutes: row.minNoticeMinutes,
    bufferBeforeMinutes: row.bufferBeforeMinutes,
    bufferAfterMinutes: row.bufferAfterMinutes,
    maxSessionsPerDay: row.maxSessionsPerDay,
    horizonDays: row.horizonDays,
  };
}

/** The gap both buffers at their maximum (120 + 120 minutes) demand: it bounds every SQL search. */
export const MAX_GAP_MS = 240 * MINUTE_MS;

/** The gap the rules demand between the end of one session and the start of the next. */
export const gapMs = (rules: BookingRules) => (rules.bufferBeforeMinutes + rules.bufferAfterMinutes) * MINUTE_MS;

/**
 * The sessions a decision about `[from, to)` must know: every session that could overlap it with a
 * buffer, and every session starting on a local day that the range touches (a local day starts at
 * most 38 hours before a given instant and ends at most 38 hours after it, offsets being −12…+14 h).
 */
export const SESSIONS_MARGIN_MS = 2 * DAY_MS;

export type RefusalReason =
  | "no_schedule"
  | "notice"
  | "horizon"
  | "availability"
  | "time_off"
  | "overlap"
  | "buffer"
  | "daily_cap";

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

export interface CalendarInput {
  timezone: string | null;
  weekly: readonly WeeklyRange[];
  rules: BookingRules;
  /** The tutor's non-cancelled sessions within SESSIONS_MARGIN_MS of the range (a moving one left out). */
  sessions: readonly Interval[];
  timeOff: readonly Interval[];
  now: number;
}

/** A tutor's calendar prepared for decisions inside `[coverFrom, coverTo)`. */
export interface TutorCalendar {
  input: CalendarInput;
  coverFrom: number;
  coverTo: number;
  windows: Interval[];
  sessions: Interval[];
  timeOff: Interval[];
  pieces: OffsetPiece[];
  dayCounts: Map<number, number>;
}

const byStart = (a: Interval, b: Interval) => a[0] - b[0] || a[1] - b[1];

/** Index of the first interval whose start is ≥ `t` (intervals sorted by start). */
function firstStartAtOrAfter(list: readonly Interval[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Interval)[0] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * True when `[start, end)` lies inside one of `windows` (merged and sorted, as availabilityWindows
 * returns them): a binary search for the first window ending at or after `end`. The slots listing
 * asks this for every candidate start.
 */
function withinMerged(windows: readonly Interval[], start: number, end: number): boolean {
  let lo = 0;
  let hi = windows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((windows[mid] as Interval)[1] < end) lo = mid + 1;
    else hi = mid;
  }
  const w = windows[lo];
  return w !== undefined && w[0] <= start;
}

function offsetAt(pieces: readonly OffsetPiece[], t: number): number {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((pieces[mid] as OffsetPiece).start <= t) lo = mid;
    else hi = mid - 1;
  }
  return (pieces[lo] as OffsetPiece).offset;
}

/** The tutor's local calendar day (days since 1970-01-01 on the wall clock) of instant `t`. */
export const localDayNumber = (timeZone: string, t: number) => Math.floor((t + zoneOffsetMs(timeZone, t)) / DAY_MS);

/**
 * The UTC bounds `[start, end)` of the local calendar day containing `ms` in `timeZone`: 24 hours
 * long, or 23 / 25 across a DST change. The booking's SQL counts the day's sessions between them.
 */
export function localDayBounds(timeZone: string, ms: number): Interval {
  const day = localDayNumber(timeZone, ms);
  return [firstInstantOfDay(timeZone, day), firstInstantOfDay(timeZone, day + 1)];
}

/** The first minute at which the local day number is ≥ `day` (local midnight, or the end of a gap). */
function firstInstantOfDay(timeZone: string, day: number): number {
  // Local midnight of `day` is at UTC day·24h − offset, offsets being within −12 h … +14 h.
  let lo = day * DAY_MS - 15 * 60 * MINUTE_MS;
  let hi = day * DAY_MS + 13 * 60 * MINUTE_MS;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / MINUTE_MS / 2) * MINUTE_MS;
    if (localDayNumber(timeZone, mid) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function prepareCalendar(input: CalendarInput, coverFrom: number, coverTo: number): TutorCalendar {
  const sessions = [...input.sessions].sort(byStart);
  const timeOff = mergeIntervals(input.timeOff);
  const zone = input.timezone;
  const windows = zone ? availabilityWindows(input.weekly, zone, coverFrom, coverTo) : [];
  const pieces = zone
    ? offsetPieces(zone, Math.min(coverFrom, sessions[0]?.[0] ?? coverFrom) - DAY_MS, coverTo + SESSIONS_MARGIN_MS)
    : [{ start: coverFrom, end: coverTo, offset: 0 }];
  const dayCounts = new Map<number, number>();
  for (const [s] of sessions) {
    const day = Math.floor((s + offsetAt(pieces, s)) / DAY_MS);
    dayCounts.set(day, (dayCounts.get(day) ?? 0) + 1);
  }
  return { input, coverFrom, coverTo, windows, sessions, timeOff, pieces, dayCounts };
}

/** Why `[start, end)` cannot be booked with this tutor (null: it can). `[start, end)` lies in the cover. */
export function refusal(cal: TutorCalendar, start: number, end: number): Refusal | null {
  const { rules, now, timezone } = cal.input;
  if (!timezone || cal.input.weekly.length === 0) {
    return { reason: "no_schedule", message: "The tutor has not published availability" };
  }
  if (start < now + rules.minNoticeMinutes * MINUTE_MS) {
    return {
      reason: "notice",
      message:
        rules.minNoticeMinutes > 0
          ? `Sessions must be booked at least ${rules.minNoticeMinutes} minutes ahead`
          : "That time has passed",
    };
  }
  if (start > now + rules.horizonDays * DAY_MS) {
    return { reason: "horizon", message: `Sessions can be booked at most ${rules.horizonDays} days ahead` };
  }
  if (!withinMerged(cal.windows, start, end)) {
    return { reason: "availability", message: "The tutor is not available at that time" };
  }
  // time off is merged (disjoint, sorted): only the last one starting before `end` can overlap
  const away = cal.timeOff[firstStartAtOrAfter(cal.timeOff, end) - 1];
  if (away && away[1] > start) return { reason: "time_off", message: "The tutor is away at that time" };
  const gap = gapMs(rules);
  for (let i = firstStartAtOrAfter(cal.sessions, end + gap) - 1; i >= 0; i--) {
    const [s, e] = cal.sessions[i] as Interval;
    if (s <= start - gap - SESSION_MAX_SPAN_MS) break;
    if (e > start - gap) {
      return s < end && e > start
        ? { reason: "overlap", message: "The tutor already has a session at that time" }
        : {
            reason: "buffer",
            message: `The tutor keeps ${rules.bufferBeforeMinutes + rules.bufferAfterMinutes} minutes between sessions`,
          };
    }
  }
  if (rules.maxSessionsPerDay !== null) {
    const day = Math.floor((start + offsetAt(cal.pieces, start)) / DAY_MS);
    if ((cal.dayCounts.get(day) ?? 0) >= rules.maxSessionsPerDay) {
      return { reason: "daily_cap", message: `The tutor takes at most ${rules.maxSessionsPerDay} sessions a day` };
    }
  }
  return null;
}

/**
 * Every start on the 15-minute grid with `[start, start + durationMs)` inside `[from, to)` that
 * `refusal` accepts: the slots listing. Only grid points inside availability are tried.
 */
export function bookableSlots(cal: TutorCalendar, from: number, to: number, durationMs: number): number[] {
  const starts: number[] = [];
  if (!(durationMs > 0)) return starts;
  const { rules, now } = cal.input;
  const earliest = Math.max(from, now + rules.minNoticeMinutes * MINUTE_MS);
  const latest = Math.min(to - durationMs, now + rules.horizonDays * DAY_MS);
  for (const [ws, we] of cal.windows) {
    const first = Math.ceil(Math.max(ws, earliest) / SLOT_STEP_MS) * SLOT_STEP_MS;
    for (let t = first; t + durationMs <= we && t <= latest; t += SLOT_STEP_MS) {
      if (refusal(cal, t, t + durationMs) === null) starts.push(t);
    }
  }
  return starts;
}
