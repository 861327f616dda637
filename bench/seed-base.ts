/**
 * What every part of the bench seed shares (bench/seed.ts writes the data set): the two scales, the
 * fixed ids the load generator asks for, the request windows, and the SQL file writer.
 */
import { writeFileSync } from "node:fs";
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

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

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
  /** A tutor with 1,000 sessions around now: its private calendar feed (bench/reads.ts). */
  calendarTutor: "tut_cal",
  calendarTutorUser: "usr_cal",
  calendarSessions: 1_000,
  /** Of them, in the last 28 days and ahead; the feed shows at most `cap` per side and window. */
  calendarWindow: { past: 400, upcoming: 600, cap: 500 },
  /** Per booking lane k, lessons begun or held hours ago (bench/lifecycle.ts): no-shows, disputes. */
  tutorNoShowSession: (k: number) => `ses_nst_${pad(k, 3)}`,
  studentNoShowSession: (k: number) => `ses_nss_${pad(k, 3)}`,
  disputeSession: (k: number) => `ses_dsp_${pad(k, 3)}`,
  laneTutorUser: (k: number) => `usr_bkt_${pad(k, 3)}`,
  /** Filler tutors with an enabled payout account and earnings above the minimum (bench/payments.ts). */
  payoutTutors: 1_000,
  payoutCents: 5_000,
  fillerTutorUser: (i: number) => `usr_t_${pad(i, 5)}`,
};

/** The 7-day window of the slots request: starts at the next UTC midnight after `now` + 1 day. */
export function slotsWindow(now: number): { from: number; to: number } {
  const from = Math.ceil((now + DAY) / DAY) * DAY;
  return { from, to: from + 7 * DAY };
}

export const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** One row of a multi-row INSERT. */
export type Row = (string | number | null)[];

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

  insert(table: string, columns: string[], rows: Iterable<Row>, rowsPerStatement = 400) {
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

/** One data set being written: its scale, its writer, the row count per table, and its time anchors. */
export interface SeedRun {
  scale: Scale;
  w: SqlWriter;
  count: (table: string, n: number) => void;
  /** Anchors every timestamp. */
  now: number;
  /** 400 days before `now`: the seeded rows' creation time, where their history starts. */
  t0: number;
}
