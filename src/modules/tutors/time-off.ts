/**
 * A tutor's booking rules and time off, as stored. What they mean for a booking is decided in
 * booking-rules.ts; here they are only read and written (always the caller's own profile).
 */
import { and, asc, count, eq, gt, inArray, lt } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { sessions, TIME_OFF_MAX_MS, tutorBookingRules, tutorTimeOff } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { badRequest, conflict, notFound } from "../../lib/errors";
import { SESSION_MAX_SPAN_MS } from "./availability";
import type { BookingRules } from "./booking-rules";
import type { TimeOffBody } from "./scheduling-schemas";
import { ownProfileRow } from "./service";
import { loadRules } from "./tutor-calendar";

export async function getOwnRules(svc: ServiceContext, userId: string): Promise<BookingRules> {
  return loadRules(svc, (await ownProfileRow(svc, userId)).id);
}

/** Replaces the caller's rules (one upsert). Sessions booked before keep their times. */
export async function putOwnRules(svc: ServiceContext, userId: string, rules: BookingRules): Promise<BookingRules> {
  const profile = await ownProfileRow(svc, userId);
  const row = { ...rules, updatedAt: svc.clock.now() };
  await svc.db
    .insert(tutorBookingRules)
    .values({ tutorProfileId: profile.id, ...row })
    .onConflictDoUpdate({ target: tutorBookingRules.tutorProfileId, set: row });
  return rules;
}

/** Most current and future time offs per tutor: keeps every slots listing's work bounded. */
export const MAX_TIME_OFF = 200;

type TimeOffRow = typeof tutorTimeOff.$inferSelect;
const timeOffView = (r: TimeOffRow) => ({
  id: r.id,
  startTime: r.startTime,
  endTime: r.endTime,
  note: r.note,
  createdAt: r.createdAt,
});

/**
 * Adds a time off. Sessions already booked inside it stay (the tutor decides: cancel or move them);
 * their ids come back in `conflictingSessionIds`, read in the same batch as the insert.
 */
export async function addTimeOff(svc: ServiceContext, userId: string, input: TimeOffBody) {
  const profile = await ownProfileRow(svc, userId);
  const now = svc.clock.now();
  if (input.endTime <= now) {
    throw badRequest("The time off is over already", [{ path: "endTime", message: "Must be in the future" }]);
  }
  const [held] = await svc.db
    .select({ n: count() })
    .from(tutorTimeOff)
    .where(
      and(
        eq(tutorTimeOff.tutorProfileId, profile.id),
        gt(tutorTimeOff.startTime, now - TIME_OFF_MAX_MS),
        gt(tutorTimeOff.endTime, now),
      ),
    );
  if ((held?.n ?? 0) >= MAX_TIME_OFF) {
    throw conflict(`At most ${MAX_TIME_OFF} current and future time offs; remove or join some first`);
  }
  const row: TimeOffRow = {
    id: newId("tof"),
    tutorProfileId: profile.id,
    startTime: input.startTime,
    endTime: input.endTime,
    note: input.note ?? null,
    createdAt: now,
  };
  const [, conflicting] = await svc.db.batch([
    svc.db.insert(tutorTimeOff).values(row),
    svc.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(
        and(
          eq(sessions.tutorProfileId, profile.id),
          lt(sessions.startTime, row.endTime),
          gt(sessions.startTime, row.startTime - SESSION_MAX_SPAN_MS),
          gt(sessions.endTime, row.startTime),
          // the lessons still to be held (a completed one is past handling)
          inArray(sessions.status, ["scheduled", "in_progress"]),
        ),
      )
      .orderBy(asc(sessions.startTime)),
  ]);
  return { ...timeOffView(row), conflictingSessionIds: conflicting.map((s) => s.id) };
}

/**
 * The caller's current and future time off, soonest first. A time off lasts at most 90 days, so
 * the ones still running started less than 90 days ago: one bounded range on (tutor, startTime).
 */
export async function listTimeOff(svc: ServiceContext, userId: string, q: { limit: number; cursor?: string }) {
  const profile = await ownProfileRow(svc, userId);
  const now = svc.clock.now();
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(tutorTimeOff)
    .where(
      and(
        eq(tutorTimeOff.tutorProfileId, profile.id),
        gt(tutorTimeOff.startTime, now - TIME_OFF_MAX_MS),
        gt(tutorTimeOff.endTime, now),
        keysetAfter(tutorTimeOff.startTime, tutorTimeOff.id, after, "asc"),
      ),
    )
    .orderBy(asc(tutorTimeOff.startTime), asc(tutorTimeOff.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, timeOffView, (r) => [r.startTime, r.id]);
}

/** Removes one of the caller's time offs; another tutor's (or an unknown id) is 404. */
export async function deleteTimeOff(svc: ServiceContext, userId: string, id: string) {
  const profile = await ownProfileRow(svc, userId);
  const removed = await svc.db
    .delete(tutorTimeOff)
    .where(and(eq(tutorTimeOff.id, id), eq(tutorTimeOff.tutorProfileId, profile.id)))
    .returning({ id: tutorTimeOff.id });
  if (removed.length === 0) throw notFound("Time off");
}
