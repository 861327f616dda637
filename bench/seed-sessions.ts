/** The sessions of the bench seed: the filler tutors', the slots tutor's and the rules tutor's. */
import { DAY, HOUR, ids, MINUTE, pad, type Row, type SeedRun, slotsWindow } from "./seed-base.ts";
import { rulesCalendar } from "./seed-scheduling.ts";

/** The session columns the seeds write (the rest keep their defaults). */
export const SESSION_COLS = [
  "id",
  "tutorProfileId",
  "studentProfileId",
  "subjectId",
  "startTime",
  "endTime",
  "status",
  "creditsCost",
  "refunded",
  "createdAt",
  "updatedAt",
  "refundedCredits",
  "settlementStatus",
  "settledAt",
];

/**
 * A session row with its settlement split (migration 0006's CHECKs): a refunded (cancelled) one is
 * settled as `refunded` for its whole cost at its start, every other one is still `open`.
 */
function* withSettlement(rows: Iterable<Row>): Generator<Row> {
  for (const row of rows) {
    const [startTime, creditsCost, refunded] = [row[4], row[7], row[8]];
    yield refunded === 1 ? [...row, creditsCost ?? 0, "refunded", startTime ?? null] : [...row, 0, "open", null];
  }
}

/**
 * Sessions: half the heavy student's, half 997 other students'; spread over 400 days past and
 * 60 days ahead over the filler tutors (past → completed, every 10th cancelled; future → scheduled).
 */
export function writeSessions({ scale, w, count, now, t0 }: SeedRun) {
  const rc = rulesCalendar(now);
  function* sessions(): Generator<Row> {
    const span = 460 * DAY;
    for (let i = 0; i < scale.sessions; i++) {
      const start = Math.floor((t0 + (i * span) / scale.sessions) / (15 * MINUTE)) * 15 * MINUTE;
      const status = i % 10 === 9 ? "cancelled" : start < now ? "completed" : "scheduled";
      yield [
        `ses_${pad(i, 6)}`,
        `tut_${pad(i % scale.tutors, 5)}`,
        i % 2 === 0 ? ids.benchStudent : `stu_f_${pad(i % 997, 3)}`,
        "sub_00",
        start,
        start + HOUR,
        status,
        2,
        status === "cancelled" ? 1 : 0,
        start - 7 * DAY,
        start - 7 * DAY,
      ];
    }
    // The slots tutor: the same 5 sessions inside the 7-day window at both scales, plus history.
    const { from } = slotsWindow(now);
    for (let d = 0; d < 5; d++) {
      const start = from + d * DAY + 10 * HOUR;
      yield [
        `ses_slots_${d}`,
        ids.slotsTutor,
        `stu_f_00${d}`,
        "sub_01",
        start,
        start + HOUR,
        "scheduled",
        2,
        0,
        t0,
        t0,
      ];
    }
    const history = Math.floor(scale.sessions / 50);
    for (let h = 0; h < history; h++) {
      const start = Math.floor((from - 2 * DAY - h * 3 * HOUR) / (15 * MINUTE)) * 15 * MINUTE;
      yield [
        `ses_slotsh_${pad(h, 5)}`,
        ids.slotsTutor,
        "stu_f_999",
        "sub_01",
        start,
        start + HOUR,
        "completed",
        2,
        0,
        t0,
        t0,
      ];
    }
    // The rules tutor: its window's sessions (rulesCalendar) and as much history as the slots tutor.
    for (const [j, [s, e]] of rc.sessions.entries()) {
      yield [
        `ses_rules_${pad(j, 3)}`,
        ids.rulesTutor,
        `stu_f_${pad(j % 997, 3)}`,
        "sub_01",
        s,
        e,
        "scheduled",
        2,
        0,
        t0,
        t0,
      ];
    }
    for (let h = 0; h < history; h++) {
      const start = Math.floor((rc.from - 2 * DAY - h * 3 * HOUR) / (15 * MINUTE)) * 15 * MINUTE;
      yield [
        `ses_rulesh_${pad(h, 5)}`,
        ids.rulesTutor,
        "stu_f_998",
        "sub_01",
        start,
        start + HOUR,
        "completed",
        2,
        0,
        t0,
        t0,
      ];
    }
  }
  w.insert("sessions", SESSION_COLS, withSettlement(sessions()));
  count(
    "sessions",
    scale.sessions + 5 + Math.floor(scale.sessions / 50) + rc.sessions.length + Math.floor(scale.sessions / 50),
  );
}
