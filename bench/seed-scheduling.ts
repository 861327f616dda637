/**
 * The scheduling part of the bench seed: the rules tutor's calendar (one source for the seed and for
 * bench/reads.ts's check of the slots listing) and the booking-rules and time-off rows.
 */
import { DAY, HOUR, ids, pad, type Row, type SeedRun } from "./seed-base.ts";

type Interval = [number, number];

/**
 * The rules tutor's calendar inside its 31-day window (the slots route's maximum range), identical at
 * both scales: the rules row, the sessions and the time off that the listing must respect. The seed
 * writes these rows and bench/reads.ts checks the listing against them, so both read one source.
 * - every day d with d % 7 = 3 holds 4 sessions: the daily cap (4), so that day lists no slot;
 * - other even days hold 2 sessions (10:00, 15:00 UTC), odd days 1 (12:00): the 15 + 15 min buffers;
 * - time off: one that began 3 days before the window (found only through the 90-day look-back),
 *   a whole day, an afternoon, and three days in a row.
 */
export function rulesCalendar(now: number) {
  const from = Math.ceil((now + DAY) / DAY) * DAY;
  const to = from + 31 * DAY;
  const rules = {
    minNoticeMinutes: 120,
    bufferBeforeMinutes: 15,
    bufferAfterMinutes: 15,
    maxSessionsPerDay: 4,
    horizonDays: 120,
  };
  const sessions: Interval[] = [];
  for (let d = 0; d < 31; d++) {
    const hours = d % 7 === 3 ? [9, 11, 14, 16] : d % 2 === 0 ? [10, 15] : [12];
    for (const h of hours) sessions.push([from + d * DAY + h * HOUR, from + d * DAY + (h + 1) * HOUR]);
  }
  const timeOff: Interval[] = [
    [from - 3 * DAY + 10 * HOUR, from + DAY + 12 * HOUR],
    [from + 9 * DAY, from + 10 * DAY],
    [from + 16 * DAY + 13 * HOUR, from + 16 * DAY + 18 * HOUR],
    [from + 24 * DAY, from + 27 * DAY],
  ];
  const cappedDays = Array.from({ length: 31 }, (_, d) => d).filter((d) => d % 7 === 3);
  return { from, to, rules, sessions, timeOff, cappedDays };
}

/**
 * Booking rules and time off. The rules tutor's window rows come from rulesCalendar; its older time
 * off (one day every 3 days going back) and one past time off per filler tutor give the table the
 * bulk an unindexed search would have to wade through.
 */
export function writeBookingRulesAndTimeOff({ scale, w, count, now, t0 }: SeedRun) {
  const rc = rulesCalendar(now);
  w.insert(
    "tutorBookingRules",
    [
      "tutorProfileId",
      "minNoticeMinutes",
      "bufferBeforeMinutes",
      "bufferAfterMinutes",
      "maxSessionsPerDay",
      "horizonDays",
      "updatedAt",
    ],
    [
      [
        ids.rulesTutor,
        rc.rules.minNoticeMinutes,
        rc.rules.bufferBeforeMinutes,
        rc.rules.bufferAfterMinutes,
        rc.rules.maxSessionsPerDay,
        rc.rules.horizonDays,
        t0,
      ],
    ],
  );
  count("tutorBookingRules", 1);
  function* timeOff(): Generator<Row> {
    for (const [i, [s, e]] of rc.timeOff.entries()) yield [`tof_rules_${i}`, ids.rulesTutor, s, e, "Away", t0];
    const history = Math.max(5, Math.floor(scale.sessions / 500));
    for (let h = 0; h < history; h++) {
      const start = rc.from - 5 * DAY - h * 3 * DAY;
      yield [`tof_rulesh_${pad(h, 5)}`, ids.rulesTutor, start, start + DAY, null, t0];
    }
    for (let i = 0; i < scale.tutors; i++) {
      const start = t0 + (i % 390) * DAY;
      yield [`tof_${pad(i, 5)}`, `tut_${pad(i, 5)}`, start, start + 2 * DAY, null, t0];
    }
  }
  const timeOffRows = [...timeOff()];
  w.insert("tutorTimeOff", ["id", "tutorProfileId", "startTime", "endTime", "note", "createdAt"], timeOffRows);
  count("tutorTimeOff", timeOffRows.length);
}
