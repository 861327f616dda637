/**
 * The part of the demo seed the API cannot write: the student's past lessons and a lesson report.
 * Written as SQL for `wrangler d1 execute --local` and safe to run again: sessions and reports are
 * `INSERT OR IGNORE` by fixed ids, and each ledger entry is inserted only when its idempotency key
 * is absent, with seq and balanceAfter computed from the user's chain head in the same statement, so
 * the ledger's chain trigger (seq = previous + 1, balanceAfter = previous ± amount) always holds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sqlValue as v } from "../common/sql.ts";
import { DEMO_STUDENT, DEMO_TUTORS, localTime, PAST_LESSONS, WELCOME_CREDITS } from "./demo-data.ts";
import { executeSqlFile } from "./wrangler.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const userId = (email: string) => `(SELECT id FROM users WHERE email = ${v(email)})`;
const head = (column: "seq" | "balanceAfter", user: string) =>
  `COALESCE((SELECT ${column} FROM creditsLedger WHERE userId = ${user} ORDER BY seq DESC LIMIT 1), 0)`;

function ledgerEntry(e: {
  id: string;
  type: "credit" | "debit";
  amount: number;
  source: string;
  sessionId: string | null;
  description: string;
  key: string;
  createdAt: number;
}): string {
  const user = userId(DEMO_STUDENT.email);
  const sign = e.type === "credit" ? "+" : "-";
  return `INSERT INTO creditsLedger (id, userId, seq, type, amount, balanceAfter, source, purchaseOrderId, sessionId, description, idempotencyKey, createdAt)
SELECT ${v(e.id)}, ${user}, ${head("seq", user)} + 1, ${v(e.type)}, ${e.amount}, ${head("balanceAfter", user)} ${sign} ${e.amount},
  ${v(e.source)}, NULL, ${v(e.sessionId)}, ${v(e.description)}, ${v(e.key)}, ${e.createdAt}
WHERE ${user} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM creditsLedger WHERE idempotencyKey = ${v(e.key)});`;
}

/** The SQL of the history, anchored at `now` (only the first run's timestamps stick). */
export function historySql(now: number): string {
  const out: string[] = [];
  const firstStart = Math.min(...PAST_LESSONS.map((l) => now - l.daysAgo * DAY));
  out.push(
    ledgerEntry({
      id: "led_demo_welcome",
      type: "credit",
      amount: WELCOME_CREDITS,
      source: "manual_adjustment",
      sessionId: null,
      description: "Welcome credits (demo seed)",
      key: "seed:demo:welcome",
      createdAt: firstStart - 7 * DAY,
    }),
  );
  for (const lesson of PAST_LESSONS) {
    const tutor = DEMO_TUTORS.find((t) => t.email === lesson.tutorEmail);
    if (!tutor) throw new Error(`past lesson ${lesson.id}: no demo tutor ${lesson.tutorEmail}`);
    const start = localTime(now, lesson.daysAgo, lesson.localStart, tutor.timezone);
    const end = start + HOUR;
    const booked = start - 5 * DAY;
    const cost = tutor.hourlyCreditsPrice;
    // a disputed lesson was contested two hours after it ended and still waits for an admin
    const disputedAt = lesson.dispute ? end + 2 * HOUR : null;
    out.push(`INSERT OR IGNORE INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, refunded, settlementStatus, disputedAt, disputeReason, createdAt, updatedAt)
SELECT ${v(lesson.id)}, t.tutorProfileId, s.studentProfileId, (SELECT id FROM subjects WHERE slug = ${v(lesson.subject)}),
  ${start}, ${end}, 'completed', ${cost}, 0, ${v(lesson.dispute ? "disputed" : "open")}, ${v(disputedAt)}, ${v(lesson.dispute ?? null)},
  ${booked}, ${disputedAt ?? end}
FROM users t, users s
WHERE t.email = ${v(tutor.email)} AND s.email = ${v(DEMO_STUDENT.email)} AND t.tutorProfileId IS NOT NULL AND s.studentProfileId IS NOT NULL;`);
    // the booking's debit, keyed like the ledger's own (`booking:<sessionId>`)
    out.push(
      ledgerEntry({
        id: `led_${lesson.id}`,
        type: "debit",
        amount: cost,
        source: "session_booking",
        sessionId: lesson.id,
        description: `Session with ${tutor.displayName} (60 min)`,
        key: `booking:${lesson.id}`,
        createdAt: booked,
      }),
    );
    if (lesson.report) {
      const r = lesson.report;
      // a past lesson's report was reviewed and published long ago: version 1, the model's, published
      out.push(`INSERT OR IGNORE INTO lessonReports (id, sessionId, studentProfileId, tutorProfileId, summary, topicsCovered, nextSteps, rawTranscript, status, publishedAt, createdAt, updatedAt)
SELECT ${v(`rpt_${lesson.id}`)}, id, studentProfileId, tutorProfileId, ${v(r.summary)}, ${v(JSON.stringify(r.topicsCovered))},
  ${v(JSON.stringify(r.nextSteps))}, ${v(r.transcript)}, 'published', endTime + 3600000, endTime + 600000, endTime + 3600000
FROM sessions WHERE id = ${v(lesson.id)};`);
      out.push(`INSERT OR IGNORE INTO lessonReportVersions (id, reportId, sessionId, version, summary, topicsCovered, nextSteps, source, createdAt)
SELECT ${v(`rpv_${lesson.id}`)}, id, sessionId, 1, summary, topicsCovered, nextSteps, 'model', createdAt
FROM lessonReports WHERE id = ${v(`rpt_${lesson.id}`)};`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** Writes the history into the local D1 database a `wrangler dev` on `persistTo` uses. */
export async function writeHistory(workDir: string, now: number, persistTo?: string) {
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, "demo-history.sql");
  writeFileSync(file, historySql(now));
  await executeSqlFile(file, persistTo);
}
