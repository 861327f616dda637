/**
 * Weekly availability → UTC windows → bookable slot starts. Pure functions (no I/O): the slots
 * listing and the booking code (POST /v1/sessions) use the same rules, so a slot that is listed can
 * be booked and a slot that cannot be booked is never listed.
 *
 * Time zones come from `Intl.DateTimeFormat` (the runtime's ICU tz data), no extra library. A weekly
 * range means "while the tutor's wall clock reads between start and end on that weekday", taken
 * literally across DST changes:
 * - a local time that does not exist (spring-forward gap) is skipped: 01:00–04:00 on the
 *   America/New_York spring-forward day is two real hours;
 * - a local time that happens twice (fall-back overlap) is available both times;
 * - ranges that touch (incl. 24:00 and the next day's 00:00) join, so a slot may span them.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;
/** Slot starts fall on multiples of this, counted from the Unix epoch. */
export const SLOT_STEP_MS = 15 * MINUTE_MS;
/**
 * No session is longer than this (durations are at most 180 minutes): a session overlapping
 * `[from, to)` started after `from − SESSION_MAX_SPAN_MS`, which bounds every overlap search on the
 * (profile, startTime) indexes. Booking, rescheduling and the slots listing read this constant.
 */
export const SESSION_MAX_SPAN_MS = DAY_MS;
/** Minutes in a day: the largest `end` of a weekly range ("24:00"). */
export const DAY_MINUTES = 24 * 60;

/** One weekly range: weekday 0–6 (0 = Sunday), minutes from local midnight, `start < end ≤ 1440`. */
export interface WeeklyRange {
  weekday: number;
  start: number;
  end: number;
}

/** A half-open UTC interval `[start, end)` in ms since the epoch. */
export type Interval = [start: number, end: number];

export interface RangeProblem {
  path: string;
  message: string;
}

const CLOCK = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const ZONE_NAME = /^[A-Za-z][\w+-]*(?:\/[\w+-]+)*$/;

/** "HH:MM" (00:00–23:59, or 24:00) → minutes from midnight; null when malformed. */
export function parseClock(value: string): number | null {
  const m = CLOCK.exec(value);
  if (!m) return null;
  if (m[1] === undefined || m[2] === undefined) return DAY_MINUTES;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Minutes from midnight (0–1440) → "HH:MM". */
export function formatClock(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Spellings that differ only by case are distinct keys: bound the cache instead of trusting input.
    if (formatters.size >= 1000) formatters.clear();
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for a time zone name the runtime knows (an IANA name such as "Europe/Paris" or "UTC"). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length > 64 || !ZONE_NAME.test(timeZone)) return false;
  try {
    formatter(timeZone);
    return true;
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
}

/** The zone's offset from UTC at instant `utcMs`, in ms (local wall time = utcMs + offset). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const second = Math.floor(utcMs / 1000) * 1000;
  const fields: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(second)) fields[part.type] = part.value;
  let year = Number(fields.year);
  if (fields.era === "BC" || fields.era === "B") year = 1 - year;
  const wall = new Date(0);
  wall.setUTCFullYear(year, Number(fields.month) - 1, Number(fields.day));
  wall.setUTCHours(Number(fields.hour) % 24, Number(fields.minute), Number(fields.second), 0);
  return wall.getTime() - second;
}

/** Zone offsets never change twice within this span (tz data has no such transitions). */
const SCAN_STEP_MS = 6 * 60 * MINUTE_MS;

export interface OffsetPiece {
  start: number;
  end: number;
  offset: number;
}

const gridOffsets = new Map<string, number>();

/** The zone's offset at a grid instant, memoized per isolate (tz data does not change under it). */
function gridOffset(timeZone: string, t: number): number {
  const key = `${timeZone}|${t}`;
  let offset = gridOffsets.get(key);
  if (offset === undefined) {
    // bounded: zone spellings come from input; a year of one zone is ~1,500 entries
    if (gridOffsets.size >= 200_000) gridOffsets.clear();
    offset = zoneOffsetMs(timeZone, t);
    gridOffsets.set(key, offset);
  }
  return offset;
}

/** Splits `[fromMs, toMs)` into pieces of constant zone offset (at each DST or other transition). */
export function offsetPieces(timeZone: string, fromMs: number, toMs: number): OffsetPiece[] {
  const pieces: OffsetPiece[] = [];
  let start = fromMs;
  let offset = zoneOffsetMs(timeZone, fromMs);
  let t = fromMs;
  while (t < toMs) {
    // Probes sit on a fixed grid (multiples of the step since the epoch), so the same probes recur
    // from request to request and their offsets come from the isolate's cache.
    const aligned = (Math.floor(t / SCAN_STEP_MS) + 1) * SCAN_STEP_MS;
    const next = Math.min(aligned, toMs);
    // The last instant of the range is toMs − 1 (half-open): a change just before the end counts too.
    const probe = next === toMs ? toMs - 1 : next;
    const probed = next === aligned ? gridOffset(timeZone, probe) : zoneOffsetMs(timeZone, probe);
    if (probe <= t || probed === offset) {
      t = next;
      continue;
    }
    // Binary search the first instant in (t, probe] whose offset differs.
    let lo = t;
    let hi = probe;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (zoneOffsetMs(timeZone, mid) === offset) lo = mid;
      else hi = mid;
    }
    pieces.push({ start, end: hi, offset });
    start = hi;
    offset = zoneOffsetMs(timeZone, hi);
    t = hi;
  }
  pieces.push({ start, end: toMs, offset });
  return pieces;
}

/** Sorts and joins overlapping or touching intervals; drops empty ones. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Interval[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** `windows` minus `busy` (both half-open); the result is merged and sorted. */
export function subtractIntervals(windows: readonly Interval[], busy: readonly Interval[]): Interval[] {
  const cuts = mergeIntervals(busy);
  const out: Interval[] = [];
  for (const [ws, we] of mergeIntervals(windows)) {
    let cursor = ws;
    for (const [bs, be] of cuts) {
      if (be <= cursor) continue;
      if (bs >= we) break;
      if (bs > cursor) out.push([cursor, bs]);
      cursor = Math.max(cursor, be);
      if (cursor >= we) break;
    }
    if (cursor < we) out.push([cursor, we]);
  }
  return out;
}

const mod = (n: number, m: number) => ((n % m) + m) % m;

/**
 * The UTC instants in `[fromMs, toMs)` at which the tutor's wall clock (in `timeZone`) is inside one
 * of the weekly ranges: merged, sorted intervals clipped to `[fromMs, toMs)`. DST-correct: each
 * stretch of constant offset is mapped separately, so skipped local times yield nothing and
 * repeated ones yield both instants.
 */
export function availabilityWindows(
  weekly: readonly WeeklyRange[],
  timeZone: string,
  fromMs: number,
  toMs: number,
): Interval[] {
  if (!(toMs > fromMs) || weekly.length === 0) return [];
  const byWeekday: WeeklyRange[][] = [[], [], [], [], [], [], []];
  for (const r of weekly) byWeekday[mod(r.weekday, 7)]?.push(r);
  const out: Interval[] = [];
  for (const piece of offsetPieces(timeZone, fromMs, toMs)) {
    const localStart = piece.start + piece.offset;
    const localEnd = piece.end + piece.offset;
    // Local days are counted in wall-clock ms since 1970-01-01 (a Thursday, weekday 4).
    for (let day = Math.floor(localStart / DAY_MS); day * DAY_MS < localEnd; day++) {
      for (const r of byWeekday[mod(day + 4, 7)] ?? []) {
        const s = Math.max(day * DAY_MS + r.start * MINUTE_MS - piece.offset, piece.start);
        const e = Math.min(day * DAY_MS + r.end * MINUTE_MS - piece.offset, piece.end);
        if (e > s) out.push([s, e]);
      }
    }
  }
  return mergeIntervals(out);
}

/** True when `[startMs, endMs)` lies entirely inside one of the (merged) `windows`. */
export function isWithinWindows(windows: readonly Interval[], startMs: number, endMs: number): boolean {
  return mergeIntervals(windows).some(([s, e]) => s <= startMs && endMs <= e);
}

/** True when `[startMs, endMs)` lies entirely inside the weekly availability (for booking checks). */
export function isWithinAvailability(
  weekly: readonly WeeklyRange[],
  timeZone: string,
  startMs: number,
  endMs: number,
): boolean {
  if (!(endMs > startMs)) return false;
  return isWithinWindows(availabilityWindows(weekly, timeZone, startMs, endMs), startMs, endMs);
}

/**
 * Slot starts: multiples of `stepMs` since the epoch, `≥ earliestMs`, with `[start, start +
 * durationMs)` inside a window and overlapping no busy interval (busy = booked sessions).
 */
export function bookableStarts(
  windows: readonly Interval[],
  busy: readonly Interval[],
  durationMs: number,
  earliestMs: number,
  stepMs: number = SLOT_STEP_MS,
): number[] {
  if (!(durationMs > 0) || !(stepMs > 0)) return [];
  const starts: number[] = [];
  for (const [s, e] of subtractIntervals(windows, busy)) {
    for (let t = Math.ceil(Math.max(s, earliestMs) / stepMs) * stepMs; t + durationMs <= e; t += stepMs) {
      starts.push(t);
    }
  }
  return starts;
}

/**
 * Problems of a weekly schedule: inverted or empty ranges and ranges overlapping another on the same
 * weekday (touching is fine). Paths point into `weekly` by input index.
 */
export function weeklyProblems(weekly: readonly WeeklyRange[], path = "weekly"): RangeProblem[] {
  const problems: RangeProblem[] = [];
  const valid: { index: number; range: WeeklyRange }[] = [];
  weekly.forEach((range, index) => {
    if (range.start >= range.end) {
      problems.push({ path: `${path}.${index}.end`, message: "end must be after start" });
    } else {
      valid.push({ index, range });
    }
  });
  valid.sort((a, b) => a.range.weekday - b.range.weekday || a.range.start - b.range.start);
  // The range reaching furthest so far on the current weekday: a later start before its end overlaps.
  let reach: { index: number; range: WeeklyRange } | undefined;
  for (const cur of valid) {
    if (reach && reach.range.weekday === cur.range.weekday && cur.range.start < reach.range.end) {
      problems.push({ path: `${path}.${cur.index}`, message: `overlaps ${path}.${reach.index}` });
    }
    if (!reach || reach.range.weekday !== cur.range.weekday || cur.range.end > reach.range.end) reach = cur;
  }
  return problems;
}

/**
 * The UTC instant at which the wall clock of `timeZone` reads `wallMs` (wall-clock ms since the
 * epoch). A time that happens twice (fall-back) is its first instance; a time that does not exist
 * (spring-forward gap) is read with the offset before the gap, as RFC 5545 does (02:30 on the New
 * York spring-forward night is 03:30 EDT).
 */
export function wallToUtc(timeZone: string, wallMs: number): number {
  const before = zoneOffsetMs(timeZone, wallMs - DAY_MS);
  const after = zoneOffsetMs(timeZone, wallMs + DAY_MS);
  const valid = [...new Set([before, after])]
    .map((offset) => wallMs - offset)
    .filter((t) => t + zoneOffsetMs(timeZone, t) === wallMs);
  return valid.length > 0 ? Math.min(...valid) : wallMs - before;
}

/**
 * `count` weekly starts at the wall-clock time of `firstStart` in `timeZone`: 17:00 local stays 17:00
 * local across DST changes (its UTC time moves by the offset change).
 */
export function weeklyStarts(timeZone: string, firstStart: number, count: number): number[] {
  const wall = firstStart + zoneOffsetMs(timeZone, firstStart);
  return Array.from({ length: count }, (_, k) => (k === 0 ? firstStart : wallToUtc(timeZone, wall + k * 7 * DAY_MS)));
}
