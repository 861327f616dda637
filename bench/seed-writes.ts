/**
 * The rows the newer paths of the bench need, identical at both scales: the calendar tutor's 1,000
 * sessions (bench/reads.ts's feed), per booking lane a lesson begun hours ago for each kind of
 * no-show and a held one to dispute (bench/lifecycle.ts), and filler tutors with an enabled payout
 * account and earnings above the minimum (bench/payments.ts: the payout run).
 */
import { HOUR, ids, MINUTE, pad, type Row, type SeedRun } from "./seed-base.ts";
import { SESSION_COLS } from "./seed-sessions.ts";

const QUARTER = 15 * MINUTE;
/** Sessions of the calendar tutor, one every 100 minutes. */
const CALENDAR_STEP = 100 * MINUTE;

export function writeLifecycleSeed({ scale, w, count, now, t0 }: SeedRun) {
  const lesson = (
    id: string,
    tutor: string,
    student: string,
    subject: string,
    start: number,
    status: "scheduled" | "completed",
  ): Row => [id, tutor, student, subject, start, start + HOUR, status, 2, 0, t0, t0, 0, "open", null];

  // The calendar tutor: `past` lessons in the last 28 days (inside the feed's 30-day look-back),
  // `upcoming` from two hours ahead, taught to the webhook buyers (students with a name).
  const { past, upcoming } = ids.calendarWindow;
  const firstPast = Math.floor((now - 28 * 24 * HOUR) / QUARTER) * QUARTER;
  const firstUpcoming = Math.ceil((now + 2 * HOUR) / QUARTER) * QUARTER;
  const calendar: Row[] = [];
  for (let i = 0; i < past; i++) {
    calendar.push(
      lesson(
        `ses_cal_p${pad(i, 4)}`,
        ids.calendarTutor,
        `stu_wh_${pad(i % ids.webhookOrders, 3)}`,
        "sub_01",
        firstPast + i * CALENDAR_STEP,
        "completed",
      ),
    );
  }
  for (let i = 0; i < upcoming; i++) {
    calendar.push(
      lesson(
        `ses_cal_u${pad(i, 4)}`,
        ids.calendarTutor,
        `stu_wh_${pad(i % ids.webhookOrders, 3)}`,
        "sub_01",
        firstUpcoming + i * CALENDAR_STEP,
        "scheduled",
      ),
    );
  }
  // Per lane: a lesson begun 3 h ago the student reports the tutor missed, one begun 6 h ago the tutor
  // reports the student missed (both inside the grace-to-48-h window), one held 9 h ago to dispute.
  const hour = Math.floor(now / QUARTER) * QUARTER;
  const lanes: Row[] = [];
  for (let k = 0; k < ids.lanes; k++) {
    const [tutor, student] = [ids.laneTutor(k), ids.laneStudent(k)];
    lanes.push(lesson(ids.tutorNoShowSession(k), tutor, student, ids.laneSubject, hour - 3 * HOUR, "scheduled"));
    lanes.push(lesson(ids.studentNoShowSession(k), tutor, student, ids.laneSubject, hour - 6 * HOUR, "scheduled"));
    lanes.push(lesson(ids.disputeSession(k), tutor, student, ids.laneSubject, hour - 9 * HOUR, "completed"));
  }
  w.insert("sessions", SESSION_COLS, [...calendar, ...lanes]);
  count("sessions", calendar.length + lanes.length);

  // Payout candidates: the first filler tutors, each with an enabled account and one earnings credit.
  const n = Math.min(ids.payoutTutors, scale.tutors);
  w.insert(
    "payoutAccounts",
    ["userId", "stripeAccountId", "payoutsEnabled", "detailsSubmitted", "stateAsOf", "createdAt", "updatedAt"],
    Array.from({ length: n }, (_, i) => [ids.fillerTutorUser(i), `acct_bench_${pad(i, 5)}`, 1, 1, t0, t0, t0]),
  );
  count("payoutAccounts", n);
  w.insert(
    "earningsLedger",
    [
      "id",
      "userId",
      "seq",
      "type",
      "amountCents",
      "balanceAfterCents",
      "currency",
      "source",
      "sessionId",
      "payoutId",
      "description",
      "idempotencyKey",
      "createdAt",
    ],
    Array.from({ length: n }, (_, i) => [
      `ern_bench_${pad(i, 5)}`,
      ids.fillerTutorUser(i),
      1,
      "credit",
      ids.payoutCents,
      ids.payoutCents,
      "usd",
      "manual_adjustment",
      null,
      null,
      "Seeded earnings",
      `seed:earnings:${ids.fillerTutorUser(i)}`,
      t0,
    ]),
  );
  count("earningsLedger", n);
}
