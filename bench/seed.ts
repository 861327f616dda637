/**
 * Seed data for `npm run bench`, written as SQL files that `wrangler d1 execute --local --file` applies
 * (never through the API). Every id is deterministic, so the load generator knows what to ask for.
 *
 * One "heavy" student (`usr_bench`) owns the ledger chain, half of all sessions and half of all
 * notifications; the small and the large data set differ only in how many rows there are, so the same
 * requests return the same shapes (first pages of 20) at both scales.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sqlValue } from "../tools/common/sql.ts";

export interface Scale {
  name: "small" | "large";
  tutors: number;
  ledgerEntries: number;
  sessions: number;
  notifications: number;
}

export const SMALL: Scale = { name: "small", tutors: 50, ledgerEntries: 50, sessions: 100, notifications: 100 };
export const LARGE: Scale = {
  name: "large",
  tutors: 5_000,
  ledgerEntries: 50_000,
  sessions: 100_000,
  notifications: 100_000,
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Fixed actors, identical at both scales. */
export const ids = {
  benchUser: "usr_bench",
  benchStudent: "stu_bench",
  adminUser: "usr_admin",
  adminEmail: "admin@bench.test",
  slotsTutor: "tut_slots",
  /** A tutor with booking rules, time off and sessions across the 31-day window (bench/reads.ts). */
  rulesTutor: "tut_rules",
  listSubjectSlug: "subject-00",
  laneSubject: "sub_19",
  lanes: 100,
  laneStudentUser: (k: number) => `usr_bk_${pad(k, 3)}`,
  laneStudent: (k: number) => `stu_bk_${pad(k, 3)}`,
  laneTutor: (k: number) => `tut_bk_${pad(k, 3)}`,
  webhookOrders: 120,
  webhookUser: (k: number) => `usr_wh_${pad(k, 3)}`,
  webhookOrder: (k: number) => `ord_wh_${pad(k, 3)}`,
  webhookCheckout: (k: number) => `cs_bench_${pad(k, 3)}`,
  webhookCredits: 5,
  /** Weekly series of 12: one student each, spread over a few tutors at distinct hours (bench/writes.ts). */
  seriesRuns: 64,
  seriesTutors: 10,
  seriesCount: 12,
  seriesStudentUser: (k: number) => `usr_sr_${pad(k, 3)}`,
  seriesStudent: (k: number) => `stu_sr_${pad(k, 3)}`,
  seriesTutor: (j: number) => `tut_sr_${pad(j, 3)}`,
};

/** The 7-day window of the slots request: starts at the next UTC midnight after `now` + 1 day. */
export function slotsWindow(now: number): { from: number; to: number } {
  const from = Math.ceil((now + DAY) / DAY) * DAY;
  return { from, to: from + 7 * DAY };
}

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

export const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** Collects rows per table and writes multi-row INSERTs, several files when a table is big. */
export class SqlWriter {
  #files: string[] = [];
  #lines: string[] = [];
  #rowsInFile = 0;
  readonly dir: string;
  readonly rowsPerFile: number;
  constructor(dir: string, rowsPerFile = 60_000) {
    this.dir = dir;
    this.rowsPerFile = rowsPerFile;
  }

  insert(table: string, columns: string[], rows: Iterable<(string | number | null)[]>, rowsPerStatement = 400) {
    const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n`;
    let batch: string[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      this.#lines.push(`${head}${batch.join(",\n")};`);
      this.#rowsInFile += batch.length;
      batch = [];
      if (this.#rowsInFile >= this.rowsPerFile) this.#cut();
    };
    for (const row of rows) {
      batch.push(`(${row.map(sqlValue).join(", ")})`);
      if (batch.length >= rowsPerStatement) flush();
    }
    flush();
  }

  #cut() {
    if (this.#lines.length === 0) return;
    const file = join(this.dir, `seed-${pad(this.#files.length, 3)}.sql`);
    writeFileSync(file, `${this.#lines.join("\n")}\n`);
    this.#files.push(file);
    this.#lines = [];
    this.#rowsInFile = 0;
  }

  finish(): string[] {
    this.#cut();
    return this.#files;
  }
}

const USER_COLS = ["id", "email", "name", "context", "studentProfileId", "tutorProfileId", "createdAt", "updatedAt"];
const LEDGER_COLS = [
  "id",
  "userId",
  "seq",
  "type",
  "amount",
  "balanceAfter",
  "source",
  "purchaseOrderId",
  "sessionId",
  "description",
  "idempotencyKey",
  "createdAt",
];
const SESSION_COLS = [
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
function* withSettlement(rows: Iterable<(string | number | null)[]>): Generator<(string | number | null)[]> {
  for (const row of rows) {
    const [startTime, creditsCost, refunded] = [row[4], row[7], row[8]];
    yield refunded === 1 ? [...row, creditsCost ?? 0, "refunded", startTime ?? null] : [...row, 0, "open", null];
  }
}

export interface SeedSummary {
  files: string[];
  rows: Record<string, number>;
}

/** Writes the SQL files of one data set into `dir`; `now` anchors every timestamp. */
export function writeSeed(scale: Scale, dir: string, now: number): SeedSummary {
  mkdirSync(dir, { recursive: true });
  const w = new SqlWriter(dir);
  const rows: Record<string, number> = {};
  const count = (table: string, n: number) => {
    rows[table] = (rows[table] ?? 0) + n;
  };
  const t0 = now - 400 * DAY;

  // Subjects: sub_00 … sub_19.
  const subjectRows = Array.from({ length: 20 }, (_, i) => [
    `sub_${pad(i, 2)}`,
    `Subject ${pad(i, 2)}`,
    `subject-${pad(i, 2)}`,
    t0,
  ]);
  w.insert("subjects", ["id", "name", "slug", "createdAt"], subjectRows);
  count("subjects", subjectRows.length);

  // Users without a tutor profile: the heavy student, the admin, booking lanes, webhook buyers.
  const users: (string | number | null)[][] = [
    [ids.benchUser, "bench@bench.test", "Bench Student", "student", ids.benchStudent, null, t0, t0],
    [ids.adminUser, ids.adminEmail, "Bench Admin", "admin", null, null, t0, t0],
  ];
  const students: (string | number | null)[][] = [[ids.benchStudent, ids.benchUser, "Bench Student", t0, t0]];
  for (let k = 0; k < ids.lanes; k++) {
    users.push([ids.laneStudentUser(k), `bk${k}@bench.test`, `Lane ${k}`, "student", ids.laneStudent(k), null, t0, t0]);
    students.push([ids.laneStudent(k), ids.laneStudentUser(k), `Lane ${k}`, t0, t0]);
  }
  for (let k = 0; k < ids.webhookOrders; k++) {
    const stu = `stu_wh_${pad(k, 3)}`;
    users.push([ids.webhookUser(k), `wh${k}@bench.test`, `Buyer ${k}`, "student", stu, null, t0, t0]);
    students.push([stu, ids.webhookUser(k), `Buyer ${k}`, t0, t0]);
  }
  for (let k = 0; k < ids.seriesRuns; k++) {
    users.push([
      ids.seriesStudentUser(k),
      `sr${k}@bench.test`,
      `Series ${k}`,
      "student",
      ids.seriesStudent(k),
      null,
      t0,
      t0,
    ]);
    students.push([ids.seriesStudent(k), ids.seriesStudentUser(k), `Series ${k}`, t0, t0]);
  }
  w.insert("users", USER_COLS, users);
  count("users", users.length);
  w.insert("studentProfiles", ["id", "userId", "displayName", "createdAt", "updatedAt"], students);
  count("studentProfiles", students.length);

  // Tutors: the filler directory (every one teaches subject-00 plus one other), the slots tutor and
  // one tutor per booking lane (all week, UTC, teaching sub_19 only).
  const tutors: { id: string; user: string; subjects: string[]; price: number; weekly: [number, number] }[] = [];
  for (let i = 0; i < scale.tutors; i++) {
    tutors.push({
      id: `tut_${pad(i, 5)}`,
      user: `usr_t_${pad(i, 5)}`,
      subjects: ["sub_00", `sub_${pad(1 + (i % 18), 2)}`],
      price: 1 + (i % 5),
      weekly: [8 * 60, 20 * 60],
    });
  }
  tutors.push({ id: ids.slotsTutor, user: "usr_slots", subjects: ["sub_01"], price: 2, weekly: [8 * 60, 20 * 60] });
  tutors.push({ id: ids.rulesTutor, user: "usr_rules", subjects: ["sub_01"], price: 2, weekly: [8 * 60, 20 * 60] });
  for (let j = 0; j < ids.seriesTutors; j++) {
    tutors.push({
      id: ids.seriesTutor(j),
      user: `usr_srt_${pad(j, 3)}`,
      subjects: [ids.laneSubject],
      price: 1,
      weekly: [0, 1440],
    });
  }
  for (let k = 0; k < ids.lanes; k++) {
    tutors.push({
      id: ids.laneTutor(k),
      user: `usr_bkt_${pad(k, 3)}`,
      subjects: [ids.laneSubject],
      price: 1,
      weekly: [0, 1440],
    });
  }
  w.insert(
    "users",
    USER_COLS,
    tutors.map((t) => [t.user, `${t.user}@bench.test`, `Tutor ${t.id}`, "tutor", null, t.id, t0, t0]),
  );
  count("users", tutors.length);
  w.insert(
    "tutorProfiles",
    ["id", "userId", "displayName", "bio", "subjects", "hourlyCreditsPrice", "timezone", "createdAt", "updatedAt"],
    tutors.map((t) => [
      t.id,
      t.user,
      `Tutor ${t.id}`,
      "Patient and precise; ten years of teaching.",
      JSON.stringify(t.subjects),
      t.price,
      "UTC",
      t0,
      t0,
    ]),
  );
  count("tutorProfiles", tutors.length);
  w.insert(
    "tutorSubjects",
    ["tutorProfileId", "subjectId"],
    tutors.flatMap((t) => t.subjects.map((s) => [t.id, s])),
  );
  count(
    "tutorSubjects",
    tutors.reduce((n, t) => n + t.subjects.length, 0),
  );
  w.insert(
    "tutorAvailability",
    ["id", "tutorProfileId", "timezone", "weekday", "start", "end"],
    tutors.flatMap((t) =>
      Array.from({ length: 7 }, (_, d) => [`avl_${t.id}_${d}`, t.id, "UTC", d, t.weekly[0], t.weekly[1]]),
    ),
  );
  count("tutorAvailability", tutors.length * 7);

  // Booking rules and time off. The rules tutor's window rows come from rulesCalendar; its older time
  // off (one day every 3 days going back) and one past time off per filler tutor give the table the
  // bulk an unindexed search would have to wade through.
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
  function* timeOff(): Generator<(string | number | null)[]> {
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

  // The heavy student's ledger: one chain seq 1..n (the insert trigger checks every link).
  function* ledger(): Generator<(string | number | null)[]> {
    let balance = 0;
    for (let seq = 1; seq <= scale.ledgerEntries; seq++) {
      const credit = seq === 1 || seq % 2 === 0;
      const amount = seq === 1 ? 1_000 : credit ? 3 : 2;
      balance += credit ? amount : -amount;
      yield [
        `led_bench_${pad(seq, 6)}`,
        ids.benchUser,
        seq,
        credit ? "credit" : "debit",
        amount,
        balance,
        "manual_adjustment",
        null,
        null,
        "Seeded entry",
        `seed:${ids.benchUser}:${seq}`,
        t0 + seq * MINUTE,
      ];
    }
  }
  w.insert("creditsLedger", LEDGER_COLS, ledger());
  // Booking lanes start with plenty of credits (seq 1).
  w.insert(
    "creditsLedger",
    LEDGER_COLS,
    Array.from({ length: ids.lanes }, (_, k) => [
      `led_bk_${pad(k, 3)}`,
      ids.laneStudentUser(k),
      1,
      "credit",
      1_000_000,
      1_000_000,
      "manual_adjustment",
      null,
      null,
      "Seeded credits",
      `seed:${ids.laneStudentUser(k)}:1`,
      t0,
    ]),
  );
  // Series students: enough for a series of 12 hour-long lessons at 1 credit an hour, many times over.
  w.insert(
    "creditsLedger",
    LEDGER_COLS,
    Array.from({ length: ids.seriesRuns }, (_, k) => [
      `led_sr_${pad(k, 3)}`,
      ids.seriesStudentUser(k),
      1,
      "credit",
      1_000,
      1_000,
      "manual_adjustment",
      null,
      null,
      "Seeded credits",
      `seed:${ids.seriesStudentUser(k)}:1`,
      t0,
    ]),
  );
  count("creditsLedger", scale.ledgerEntries + ids.lanes + ids.seriesRuns);

  // Sessions: half the heavy student's, half 997 other students'; spread over 400 days past and
  // 60 days ahead over the filler tutors (past → completed, every 10th cancelled; future → scheduled).
  function* sessions(): Generator<(string | number | null)[]> {
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

  // Notifications: half the heavy student's (every 10th of them unread), half other users'.
  function* notifications(): Generator<(string | number | null)[]> {
    for (let i = 0; i < scale.notifications; i++) {
      const mine = i % 2 === 0;
      const unread = mine ? (i / 2) % 10 === 0 : i % 3 === 0;
      yield [
        `ntf_${pad(i, 6)}`,
        mine ? ids.benchUser : `usr_f_${pad(i % 997, 3)}`,
        "session_reminder",
        JSON.stringify({ sessionId: `ses_${pad(i, 6)}`, hoursBefore: 24 }),
        unread ? 0 : 1,
        null,
        now - (scale.notifications - i) * 30_000,
      ];
    }
  }
  w.insert("notifications", ["id", "userId", "type", "data", "read", "dedupeKey", "createdAt"], notifications());
  count("notifications", scale.notifications);

  // Pending orders for the webhook → credited path (one buyer each; their checkout session ids known).
  w.insert(
    "creditPurchaseOrders",
    [
      "id",
      "userId",
      "packId",
      "stripeCheckoutSessionId",
      "checkoutUrl",
      "totalCredits",
      "totalCents",
      "currency",
      "status",
      "createdAt",
      "updatedAt",
    ],
    Array.from({ length: ids.webhookOrders }, (_, k) => [
      ids.webhookOrder(k),
      ids.webhookUser(k),
      "pack_5",
      ids.webhookCheckout(k),
      `https://checkout.stripe.test/${ids.webhookCheckout(k)}`,
      ids.webhookCredits,
      5000,
      "usd",
      "pending",
      now,
      now,
    ]),
  );
  count("creditPurchaseOrders", ids.webhookOrders);

  return { files: w.finish(), rows };
}
