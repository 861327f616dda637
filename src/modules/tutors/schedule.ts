/**
 * Stored weekly availability and the bookable slots derived from it. The time math lives in
 * `availability.ts` (pure); this file only reads and writes D1.
 */
import { asc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { tutorAvailability, tutorProfiles } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { badRequest, notFound } from "../../lib/errors";
import { formatClock, MINUTE_MS, type WeeklyRange } from "./availability";
import { bookableSlots } from "./booking-rules";
import { MAX_SLOTS_RANGE_MS } from "./schemas";
import { ownProfileRow } from "./service";
import { loadTutorCalendar } from "./tutor-calendar";

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

/**
 * Bookable slots `[start, start + duration)` lying inside `[from, to)`: every start on the 15-minute
 * grid that booking would accept (booking-rules.ts `refusal`: notice, horizon, availability, time
 * off, buffers, daily cap). One D1 round trip (tutor-calendar.ts). A tutor who is not approved has
 * no slots: 404, as for an unknown one.
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
  const { profile, calendar } = await loadTutorCalendar(svc, tutorProfileId, query.from, query.to, {
    publicOnly: true,
    now,
  });
  if (!profile) throw notFound("Tutor");
  const durationMs = query.durationMinutes * MINUTE_MS;
  const items = bookableSlots(calendar, query.from, query.to, durationMs).map((startTime) => ({
    startTime,
    endTime: startTime + durationMs,
  }));
  return { items, nextCursor: null };
}
