/**
 * `EXPLAIN QUERY PLAN` of the main queries, with real values, against the large seeded database: a
 * table or index scanned whole in any of them misses a target. The booking guard is the app's own
 * SQL (src/ledger/booking-sql.ts, imported as it is) with its binds written in as literals.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sqlValue } from "../tools/common/sql.ts";
import { executeSqlFile } from "../tools/offline/wrangler.ts";
import { NOW } from "./config.ts";
import { ids, slotsWindow } from "./seed-base.ts";
import { rulesCalendar } from "./seed-scheduling.ts";
import { importFromSrc } from "./src-modules.ts";

type BookingSql = typeof import("../src/ledger/booking-sql.ts");
type BookingRules = typeof import("../src/modules/tutors/booking-rules.ts");
type Schema = typeof import("../src/db/schema/scheduling.ts");
/** src/modules/tutors/directory-sql.ts's `directorySql` (its module's types need the Workers runtime's). */
interface Directory {
  directorySql(
    q: { subject?: string; sort: string; maxPrice?: number; minRating?: number; limit: number },
    at: number | undefined,
    after: readonly (string | number)[] | undefined,
  ): { sql: string; params: unknown[] };
}

/** `sql` with each `?` replaced by its bind as a SQL literal (none of these statements quotes a `?`). */
function inline(sql: string, binds: unknown[]): string {
  let i = 0;
  const out = sql.replace(/\?/g, () => sqlValue(binds[i++] as string | number | null));
  if (i !== binds.length) throw new Error(`${binds.length} binds for ${i} placeholders`);
  return out;
}

/** `sql` with `?` and `?N` placeholders (SQLite's numbering) replaced by their binds as literals. */
function inlineNumbered(sql: string, binds: unknown[]): string {
  let last = 0;
  return sql.replace(/\?(\d*)/g, (_, n: string) => {
    last = n ? Number(n) : last + 1;
    if (last > binds.length) throw new Error(`no bind ${last} of ${binds.length}`);
    return sqlValue(binds[last - 1] as string | number | null);
  });
}

/**
 * The directory page (src/modules/tutors/directory-sql.ts's own SQL) for every sort, on the subject
 * all 5,000 filler tutors teach and on the whole directory, first and later pages, with filters.
 */
function directoryPlans(directorySql: Directory["directorySql"]) {
  const sorts = ["newest", "rating", "price_asc", "price_desc"] as const;
  const after: Record<(typeof sorts)[number], (string | number)[]> = {
    newest: [NOW - 2_500_000, "tut_02500"],
    rating: [3.5, 10, "tut_02500"],
    price_asc: [3, "tut_02500"],
    price_desc: [3, "tut_02500"],
  };
  return sorts.flatMap((sort) =>
    [
      { label: "first page by subject", q: { subject: ids.listSubjectSlug }, cursor: false },
      { label: "later page, all tutors", q: {}, cursor: true },
      {
        label: "later page by subject, maxPrice and minRating",
        q: { subject: ids.listSubjectSlug, maxPrice: 4, minRating: 2.5 },
        cursor: true,
      },
    ].map(({ label, q, cursor }) => {
      const page = directorySql({ sort, limit: 20, ...q }, cursor ? NOW : undefined, cursor ? after[sort] : undefined);
      return { name: `directory ${sort}: ${label}`, sql: inlineNumbered(page.sql, page.params) };
    }),
  );
}

/** The main queries as the services issue them (drizzle's SQL shape), with real values. */
async function explainQueries(): Promise<{ name: string; sql: string }[]> {
  const { slotFree } = await importFromSrc<BookingSql>("ledger/booking-sql.ts");
  const { SESSIONS_MARGIN_MS } = await importFromSrc<BookingRules>("modules/tutors/booking-rules.ts");
  const { TIME_OFF_MAX_MS } = await importFromSrc<Schema>("db/schema/scheduling.ts");
  const { directorySql } = await importFromSrc<Directory>("modules/tutors/directory-sql.ts");
  const { from, to } = slotsWindow(NOW);
  const rc = rulesCalendar(NOW);
  const lit = (s: string) => `'${s}'`;
  // A free hour of the rules tutor inside its window (day 2, 17:00 UTC), claimed by a series student.
  const claimStart = rc.from + 2 * 86_400_000 + 17 * 3_600_000;
  const claim = {
    tutorProfileId: ids.rulesTutor,
    studentProfileId: ids.seriesStudent(0),
    startTime: claimStart,
    endTime: claimStart + 3_600_000,
    timezone: "UTC",
    dayStart: rc.from + 2 * 86_400_000,
    dayEnd: rc.from + 3 * 86_400_000,
  };
  const free = slotFree(claim);
  const sessionsWindow = (tutor: string, a: number, b: number) =>
    `select "id", "startTime", "endTime" from "sessions" where ("sessions"."tutorProfileId" = ${lit(tutor)} and "sessions"."startTime" >= ${a - SESSIONS_MARGIN_MS} and "sessions"."startTime" < ${b + SESSIONS_MARGIN_MS} and "sessions"."status" <> 'cancelled')`;
  return [
    {
      name: "auth: user by id (every authenticated route)",
      sql: `SELECT id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt FROM users WHERE id = ${lit(ids.benchUser)} LIMIT 1`,
    },
    ...directoryPlans(directorySql),
    {
      name: "slots: weekly availability",
      sql: `select "weekday", "start", "end", "timezone" from "tutorAvailability" where "tutorAvailability"."tutorProfileId" = ${lit(ids.slotsTutor)} order by "tutorAvailability"."weekday" asc, "tutorAvailability"."start" asc`,
    },
    {
      name: "slots: sessions window (7 days ± 2 days)",
      sql: sessionsWindow(ids.slotsTutor, from, to),
    },
    {
      name: "slots with rules: booking rules by tutor",
      sql: `select "minNoticeMinutes", "bufferBeforeMinutes", "bufferAfterMinutes", "maxSessionsPerDay", "horizonDays" from "tutorBookingRules" where "tutorBookingRules"."tutorProfileId" = ${lit(ids.rulesTutor)} limit 1`,
    },
    {
      name: "slots with rules: time off overlapping 31 days (90-day look-back)",
      sql: `select "id", "startTime", "endTime" from "tutorTimeOff" where ("tutorTimeOff"."tutorProfileId" = ${lit(ids.rulesTutor)} and "tutorTimeOff"."startTime" < ${rc.to} and "tutorTimeOff"."startTime" > ${rc.from - TIME_OFF_MAX_MS} and "tutorTimeOff"."endTime" > ${rc.from})`,
    },
    {
      name: "slots with rules: sessions window (31 days ± 2 days)",
      sql: sessionsWindow(ids.rulesTutor, rc.from, rc.to),
    },
    {
      name: "balance",
      sql: `SELECT balanceAfter FROM creditsLedger WHERE userId = ${lit(ids.benchUser)} ORDER BY seq DESC LIMIT 1`,
    },
    {
      name: "ledger: first page",
      sql: `select * from "creditsLedger" where "creditsLedger"."userId" = ${lit(ids.benchUser)} order by "creditsLedger"."seq" desc limit 21`,
    },
    {
      name: "ledger: later page",
      sql: `select * from "creditsLedger" where ("creditsLedger"."userId" = ${lit(ids.benchUser)} and "creditsLedger"."seq" < 25000) order by "creditsLedger"."seq" desc limit 21`,
    },
    {
      name: "sessions: student's first page",
      sql: `select * from "sessions" where "sessions"."studentProfileId" = ${lit(ids.benchStudent)} order by "sessions"."startTime" desc, "sessions"."id" desc limit 21`,
    },
    {
      name: "sessions: student's later page (keyset)",
      sql: `select * from "sessions" where ("sessions"."studentProfileId" = ${lit(ids.benchStudent)} and ("sessions"."startTime" < ${NOW} or ("sessions"."startTime" = ${NOW} and "sessions"."id" < 'ses_050000'))) order by "sessions"."startTime" desc, "sessions"."id" desc limit 21`,
    },
    {
      name: "notifications: unread count",
      sql: `select count(*) from "notifications" where ("notifications"."userId" = ${lit(ids.benchUser)} and "notifications"."read" = 0)`,
    },
    {
      name: "admin: sessions by status",
      sql: `select * from "sessions" where "sessions"."status" = 'scheduled' order by "sessions"."startTime" desc, "sessions"."id" desc limit 21`,
    },
    {
      name: "booking: guarded session INSERT (slotFree: buffers, student overlap, time off, daily cap)",
      sql: inline(
        `INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, refunded, seriesId, createdAt, updatedAt)
SELECT ?, ?, ?, ?, ?, ?, 'scheduled', ?, 0, ?, ?, ?
WHERE ${free.sql}`,
        [
          "ses_explain",
          claim.tutorProfileId,
          claim.studentProfileId,
          "sub_01",
          claim.startTime,
          claim.endTime,
          2,
          "ser_explain",
          NOW,
          NOW,
          ...free.binds,
        ],
      ),
    },
    {
      name: "series: row INSERT counting its occurrences",
      sql: `INSERT INTO sessionSeries (id, studentProfileId, tutorProfileId, subjectId, firstStartTime, durationMinutes, count, timezone, bookedCount, creditsCost, createdAt)
SELECT 'ser_explain', ${lit(claim.studentProfileId)}, ${lit(claim.tutorProfileId)}, 'sub_01', ${claim.startTime}, 60, 12, 'UTC', (SELECT COUNT(*) FROM sessions WHERE seriesId = 'ser_explain'), 24, ${NOW}`,
    },
    {
      name: "ledger: next entry (chain head)",
      sql: `SELECT seq, balanceAfter FROM creditsLedger WHERE userId = ${lit(ids.benchUser)} ORDER BY seq DESC LIMIT 1`,
    },
  ];
}

export async function explainOnLarge(stateDir: string, tmp: string) {
  const queries = await explainQueries();
  const command = queries.map((q) => `EXPLAIN QUERY PLAN ${q.sql}`).join(";\n");
  const file = join(tmp, "explain.sql");
  writeFileSync(file, `${command};\n`);
  const output = await executeSqlFile(file, stateDir, true);
  const start = output.indexOf("[");
  const parsed = JSON.parse(output.slice(start)) as { results: { detail: string }[] }[];
  return queries.map((q, i) => {
    const plan = (parsed[i]?.results ?? []).map((r) => r.detail);
    // "SCAN t" (the table) and "SCAN t USING [COVERING] INDEX i" (an index walked whole) both read
    // every row; "SCAN CONSTANT ROW" is the one-row SELECT of an INSERT … SELECT without FROM.
    const fullScan = plan.some((d) => /^SCAN (?!CONSTANT ROW)/.test(d.trim()));
    const tempSort = plan.some((d) => d.includes("TEMP B-TREE"));
    return { ...q, plan, fullScan, tempSort };
  });
}
