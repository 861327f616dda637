/**
 * `EXPLAIN QUERY PLAN` of the main read queries, with real values, against the large seeded
 * database: a full table scan in any of them misses a target.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { executeSqlFile } from "../tools/offline/wrangler.ts";
import { NOW } from "./config.ts";
import { ids, slotsWindow } from "./seed.ts";

/** The main read queries as the services issue them (drizzle's SQL shape), with real values. */
function explainQueries(): { name: string; sql: string }[] {
  const { from, to } = slotsWindow(NOW);
  const lit = (s: string) => `'${s}'`;
  return [
    {
      name: "auth: user by id (every authenticated route)",
      sql: `SELECT id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt FROM users WHERE id = ${lit(ids.benchUser)} LIMIT 1`,
    },
    {
      name: "tutors: page by subject (slug resolved in SQL)",
      sql: `select "tutorProfiles".* from "tutorSubjects" inner join "tutorProfiles" on "tutorProfiles"."id" = "tutorSubjects"."tutorProfileId" where "tutorSubjects"."subjectId" = (select "id" from "subjects" where "subjects"."slug" = ${lit(ids.listSubjectSlug)} limit 1) order by "tutorSubjects"."tutorProfileId" desc limit 21`,
    },
    {
      name: "tutors: subjects of the page (same batch)",
      sql: `select "tutorSubjects"."tutorProfileId", "subjects"."id", "subjects"."name", "subjects"."slug" from "tutorSubjects" inner join "subjects" on "subjects"."id" = "tutorSubjects"."subjectId" where "tutorSubjects"."tutorProfileId" in (select "tutorProfileId" from "tutorSubjects" where "tutorSubjects"."subjectId" = (select "id" from "subjects" where "subjects"."slug" = ${lit(ids.listSubjectSlug)} limit 1) order by "tutorSubjects"."tutorProfileId" desc limit 20)`,
    },
    {
      name: "slots: weekly availability",
      sql: `select "weekday", "start", "end", "timezone" from "tutorAvailability" where "tutorAvailability"."tutorProfileId" = ${lit(ids.slotsTutor)} order by "tutorAvailability"."weekday" asc, "tutorAvailability"."start" asc`,
    },
    {
      name: "slots: busy intervals",
      sql: `select "startTime", "endTime" from "sessions" where ("sessions"."tutorProfileId" = ${lit(ids.slotsTutor)} and "sessions"."startTime" < ${to} and "sessions"."startTime" > ${from - 86_400_000} and "sessions"."status" <> 'cancelled')`,
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
      name: "booking: overlap guard (tutor)",
      sql: `SELECT 1 FROM sessions WHERE tutorProfileId = 'tut_bk_001' AND startTime < ${NOW} AND startTime > ${NOW - 86_400_000} AND endTime > ${NOW - 3_600_000} AND status != 'cancelled'`,
    },
    {
      name: "ledger: next entry (chain head)",
      sql: `SELECT seq, balanceAfter FROM creditsLedger WHERE userId = ${lit(ids.benchUser)} ORDER BY seq DESC LIMIT 1`,
    },
  ];
}

export async function explainOnLarge(stateDir: string, tmp: string) {
  const queries = explainQueries();
  const command = queries.map((q) => `EXPLAIN QUERY PLAN ${q.sql}`).join(";\n");
  const file = join(tmp, "explain.sql");
  writeFileSync(file, `${command};\n`);
  const output = await executeSqlFile(file, stateDir, true);
  const start = output.indexOf("[");
  const parsed = JSON.parse(output.slice(start)) as { results: { detail: string }[] }[];
  return queries.map((q, i) => {
    const plan = (parsed[i]?.results ?? []).map((r) => r.detail);
    const fullScan = plan.some((d) => /^SCAN \w+$/.test(d.trim()) || /^SCAN \w+ *$/.test(d.trim()));
    const tempSort = plan.some((d) => d.includes("TEMP B-TREE"));
    return { ...q, plan, fullScan, tempSort };
  });
}
