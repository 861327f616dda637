/**
 * The SQL guard of every write that puts a session at a time: a booking's INSERT, each occurrence
 * of a series, a reschedule's UPDATE. It holds only if, at the moment the statement runs:
 * - no non-cancelled session of the tutor lies within the tutor's buffers (before + after minutes,
 *   read from `tutorBookingRules` by this very statement) of the new interval;
 * - no non-cancelled session of the student overlaps it;
 * - no time off of the tutor overlaps it;
 * - fewer than the tutor's `maxSessionsPerDay` non-cancelled sessions start on its local day, whose
 *   UTC bounds were computed in the zone the tutor still has (checked here too).
 * D1 runs statements one at a time, so of two writes that each fit alone but not together, the
 * second sees the first and writes nothing. Every search is a range on an index:
 * (tutorProfileId | studentProfileId, startTime) on sessions, (tutorProfileId, startTime) on time off.
 */
import { TIME_OFF_MAX_MS } from "../db/schema";
import { SESSION_MAX_SPAN_MS } from "../modules/tutors/availability";
import { MAX_GAP_MS } from "../modules/tutors/booking-rules";

export interface SlotClaim {
  tutorProfileId: string;
  studentProfileId: string;
  startTime: number;
  endTime: number;
  /** The tutor's zone the local day was computed in (null for a tutor without one), and that day's UTC bounds. */
  timezone: string | null;
  dayStart: number;
  dayEnd: number;
  /** A session being moved does not conflict with itself. */
  movingSessionId?: string;
}

export interface SqlCondition {
  sql: string;
  binds: unknown[];
}

const GAP =
  "COALESCE((SELECT (bufferBeforeMinutes + bufferAfterMinutes) * 60000 FROM tutorBookingRules WHERE tutorProfileId = ?), 0)";
const CAP = "COALESCE((SELECT maxSessionsPerDay FROM tutorBookingRules WHERE tutorProfileId = ?), 2147483647)";

/** The condition (for a WHERE) that the claimed interval is free under every rule SQL can check. */
export function slotFree(c: SlotClaim): SqlCondition {
  const self = c.movingSessionId ?? "";
  const sql = `(SELECT timezone FROM tutorProfiles WHERE id = ?) IS ?
  AND NOT EXISTS (SELECT 1 FROM sessions o WHERE o.tutorProfileId = ? AND o.startTime < ? + ${GAP} AND o.startTime > ? AND o.endTime > ? - ${GAP} AND o.status != 'cancelled' AND o.id != ?)
  AND NOT EXISTS (SELECT 1 FROM sessions o WHERE o.studentProfileId = ? AND o.startTime < ? AND o.startTime > ? AND o.endTime > ? AND o.status != 'cancelled' AND o.id != ?)
  AND NOT EXISTS (SELECT 1 FROM tutorTimeOff t WHERE t.tutorProfileId = ? AND t.startTime < ? AND t.startTime > ? AND t.endTime > ?)
  AND (SELECT COUNT(*) FROM sessions d WHERE d.tutorProfileId = ? AND d.startTime >= ? AND d.startTime < ? AND d.status != 'cancelled' AND d.id != ?) < ${CAP}`;
  const binds = [
    c.tutorProfileId,
    c.timezone,
    // the tutor's sessions, buffers included
    c.tutorProfileId,
    c.endTime,
    c.tutorProfileId,
    c.startTime - SESSION_MAX_SPAN_MS - MAX_GAP_MS,
    c.startTime,
    c.tutorProfileId,
    self,
    // the student's sessions
    c.studentProfileId,
    c.endTime,
    c.startTime - SESSION_MAX_SPAN_MS,
    c.startTime,
    self,
    // time off
    c.tutorProfileId,
    c.endTime,
    c.startTime - TIME_OFF_MAX_MS,
    c.startTime,
    // the daily cap
    c.tutorProfileId,
    c.dayStart,
    c.dayEnd,
    self,
    c.tutorProfileId,
  ];
  return { sql, binds };
}
