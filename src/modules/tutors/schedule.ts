/**
 * Stored weekly availability and the bookable slots derived from it. The time math lives in
 * `availability.ts` (pure); this file only reads and writes D1.
 */
import { and, asc, eq, gt, lt, ne } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { sessions, tutorAvailability, tutorProfiles } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { badRequest, notFound } from "../../lib/errors";
import {
  availabilityWindows,
  BOOKING_HORIZON_MS,
  bookableStarts,
  formatClock,
  type Interval,
  MINUTE_MS,
  SESSION_MAX_SPAN_MS,
  type WeeklyRange,
} from "./availability";
import { MAX_SLOTS_RANGE_MS } from "./schemas";
import { ownProfileRow, PUBLIC_TUTOR_STATUS } from "./service";

export interface StoredAvailability {
  timezone: string | null;
  weekly: WeeklyRange[];
}

/** The query of a tutor's weekly ranges, on the `tutorAvailability_by_tutor` index. */
function weeklyAvailabilityQuery(svc: ServiceContext, tutorProfileId: string) {
  return svc.db
    .select({
      weekday: tutorAvailability.weekday,
      start: tutorAvailability.start,
      end: tutorAvailability.end,
      timezone: tutorAvailability.timezone,
    })
    .from(tutorAvailability)
    .where(eq(tutorAvailability.tutorProfileId, tutorProfileId))
    .orderBy(asc(tutorAvailability.weekday), asc(tutorAvailability.start));
}

function storedAvailability(
  rows: { weekday: number; start: number; end: number; timezone: string }[],
  fallbackTimezone: string | null,
): StoredAvailability {
  return {
    timezone: rows[0]?.timezone ?? fallbackTimezone,
    weekly: rows.map(({ weekday, start, end }) => ({ weekday, start, end })),
  };
}

/** A tutor's weekly ranges (minutes) and their zone, on the `tutorAvailability_by_tutor` index. */
export async function loadWeeklyAvailability(
  svc: ServiceContext,
  tutorProfileId: string,
  fallbackTimezone: string | null = null,
): Promise<StoredAvailability> {
  return storedAvailability(await weeklyAvailabilityQuery(svc, tutorProfileId), fallbackTimezone);
}

export function availabilityView(stored: StoredAvailability) {
  return {
    timezone: stored.timezone,
    weekly: stored.weekly.map((r) => ({ weekday: r.weekday, start: formatClock(r.start), end: formatClock(r.end) })),
  };
}

export async function getOwnAvailability(svc: ServiceContext, userId: string) {
  const profile = await ownProfileRow(svc, userId);
  return availabilityView(await loadWeeklyAvailability(svc, profile.id, profile.timezone));
}

/**
 * Replaces the caller's availability in one batch (zone on the profile, old rows out, new rows in).
 * `weekly` is already validated: no inverted or overlapping ranges, a known zone.
 */
export async function replaceAvailability(
  svc: ServiceContext,
  userId: string,
  input: { timezone: string; weekly: WeeklyRange[] },
) {
  const profile = await ownProfileRow(svc, userId);
  const weekly = [...input.weekly].sort((a, b) => a.weekday - b.weekday || a.start - b.start);
  const now = svc.clock.now();
  await svc.db.batch([
    svc.db
      .update(tutorProfiles)
      .set({ timezone: input.timezone, updatedAt: now })
      .where(eq(tutorProfiles.id, profile.id)),
    svc.db.delete(tutorAvailability).where(eq(tutorAvailability.tutorProfileId, profile.id)),
    ...weekly.map((r) =>
      svc.db.insert(tutorAvailability).values({
        id: newId("avl"),
        tutorProfileId: profile.id,
        timezone: input.timezone,
        weekday: r.weekday,
        start: r.start,
        end: r.end,
      }),
    ),
  ]);
  return availabilityView({ timezone: input.timezone, weekly });
}

/** The query of the tutor's non-cancelled sessions that may overlap `[fromMs, toMs)`. */
function busyQuery(svc: ServiceContext, tutorProfileId: string, fromMs: number, toMs: number) {
  return svc.db
    .select({ startTime: sessions.startTime, endTime: sessions.endTime })
    .from(sessions)
    .where(
      and(
        eq(sessions.tutorProfileId, tutorProfileId),
        lt(sessions.startTime, toMs),
        gt(sessions.startTime, fromMs - SESSION_MAX_SPAN_MS),
        ne(sessions.status, "cancelled"),
      ),
    );
}

const asBusy = (rows: { startTime: number; endTime: number }[], fromMs: number): Interval[] =>
  rows.filter((r) => r.endTime > fromMs).map((r): Interval => [r.startTime, r.endTime]);

/** The tutor's non-cancelled sessions that may overlap `[fromMs, toMs)`, as busy intervals. */
export async function busyIntervals(
  svc: ServiceContext,
  tutorProfileId: string,
  fromMs: number,
  toMs: number,
): Promise<Interval[]> {
  return asBusy(await busyQuery(svc, tutorProfileId, fromMs, toMs), fromMs);
}

/**
 * Bookable slots `[start, start + duration)` lying inside `[from, to)`: within availability, on
 * 15-minute epoch boundaries, after the minimum notice and within the booking horizon (the
 * booking's own limits), clear of the tutor's sessions. A tutor who is not approved has no slots:
 * 404, as for an unknown one.
 */
export async function listSlots(
  svc: ServiceContext,
  tutorProfileId: string,
  query: { from: number; to: number; durationMinutes: number },
  now: number = svc.clock.now(),
) {
  if (query.to <= query.from)
    throw badRequest("to must be after from", [{ path: "to", message: "Must be after from" }]);
  if (query.to - query.from > MAX_SLOTS_RANGE_MS) {
    throw badRequest("The range is limited to 31 days", [{ path: "to", message: "At most 31 days after from" }]);
  }
  // One D1 round trip: the profile, its availability and its sessions in the range, as one batch.
  const [profiles, availabilityRows, busyRows] = await svc.db.batch([
    svc.db
      .select({ id: tutorProfiles.id, timezone: tutorProfiles.timezone })
      .from(tutorProfiles)
      .where(and(eq(tutorProfiles.id, tutorProfileId), eq(tutorProfiles.status, PUBLIC_TUTOR_STATUS)))
      .limit(1),
    weeklyAvailabilityQuery(svc, tutorProfileId),
    busyQuery(svc, tutorProfileId, query.from, query.to),
  ]);
  const profile = profiles[0];
  if (!profile) throw notFound("Tutor");
  const { timezone, weekly } = storedAvailability(availabilityRows, profile.timezone);
  if (!timezone || weekly.length === 0) return { items: [], nextCursor: null };
  const durationMs = query.durationMinutes * MINUTE_MS;
  const windows = availabilityWindows(weekly, timezone, query.from, query.to);
  if (windows.length === 0) return { items: [], nextCursor: null };
  const busy = asBusy(busyRows, query.from);
  const earliest = Math.max(query.from, now + svc.config.BOOKING_MIN_NOTICE_MINUTES * MINUTE_MS);
  const latest = now + BOOKING_HORIZON_MS;
  const items = bookableStarts(windows, busy, durationMs, earliest)
    .filter((startTime) => startTime <= latest)
    .map((startTime) => ({ startTime, endTime: startTime + durationMs }));
  return { items, nextCursor: null };
}
