/**
 * The automatic transitions of a lesson (docs/lifecycle.md), run by the cron and continued on the jobs
 * queue:
 * - `auto_complete`: `in_progress` at endTime + AUTO_COMPLETE_HOURS → `completed` (still `open`);
 * - `not_held`: `scheduled` at endTime + REPORT_WINDOW_HOURS → `cancelled` by `system`, all refunded;
 * - `settle_held`: `completed` + `open` at endTime + SETTLEMENT_HOLD_HOURS → `settled` to the tutor;
 * - `settle_cancelled`: `cancelled` + `open` (late cancellations from before migration 0006) → settled.
 *
 * Each batch reads at most SWEEP_BATCH due rows from its sweep's partial index, in (endTime, id)
 * order inside a keyset range, and acts on each row with a conditional write: the non-money one is an
 * UPDATE guarded by the status (its notifications guarded by the fresh transitionId it writes), the
 * money ones go through the settling step in the student's CreditLedger. So overlapping or repeated
 * runs act on a row once; the loser of a race sees a conflict, which only means another run (or a
 * participant, or an admin) did it.
 *
 * A backlog drains through `sessions.sweep` jobs: the cron runs the first batch itself and, when it
 * was full, enqueues a *chain* message. A chain message only reads the next FANOUT × SWEEP_BATCH due
 * keys (one covering index read), enqueues one *leaf* per slice of SWEEP_BATCH keys and, when it read
 * a full window, the next chain message; each leaf runs its one batch. Every message moves strictly
 * forward, so a chain ends; a row that keeps failing is passed by and retried by the next cron run.
 */

import type { ServiceContext } from "../../context";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { DomainError } from "../../lib/errors";
import { enqueue, enqueueMany } from "../../queues/enqueue";
import type { QueueMessage, sessionSweeps } from "../../queues/messages";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { whenText } from "./service";
import { settleKnown } from "./settle";

const HOUR_MS = 60 * 60 * 1000;

/**
 * Rows per batch. A settling row costs 4 subrequests (2 profile reads, the ledger call, the
 * read-back) and a batch adds about 4 (due rows, full rows, e-mail batches): ≤ 84 per message. The
 * queue hands a consumer invocation up to 10 messages (max_batch_size), which share that
 * invocation's subrequest budget: 10 × 84 stays under the 1000 of the strictest plan. An
 * auto-complete batch is one D1 batch.
 */
export const SWEEP_BATCH = 20;
/** Leaves per chain message: with the next chain message, at most 9 messages per send (≤ 10 a batch). */
export const FANOUT = 8;
/** Settling rows in flight at once (distinct students are distinct Durable Objects). */
const SETTLE_CONCURRENCY = 4;
/** Queue batches hold at most 100 messages (and 256 KB): e-mails are sent in chunks below that. */
const EMAIL_CHUNK = 40;

export type SweepName = (typeof sessionSweeps)[number];
export interface SweepCursor {
  endTime: number;
  id: string;
}

/** A keyset range of a sweep's index: rows after `after` and up to `until` (inclusive). */
export interface SweepRange {
  after?: SweepCursor;
  until?: SweepCursor;
  limit?: number;
}

export interface SweepRun {
  sweep: SweepName;
  /** Due rows read (≤ the batch size). */
  read: number;
  /** Rows this run changed (the rest were changed by someone else, or failed and were logged). */
  acted: number;
  /** Where a continuation starts, when the batch was full. */
  next?: SweepCursor;
}

interface Due {
  id: string;
  startTime: number;
  endTime: number;
  creditsCost: number;
  studentUserId: string;
  studentEmail: string | null;
  tutorUserId: string;
  tutorEmail: string | null;
}

/**
 * Each sweep's predicate, written with literals so SQLite can prove it implies the partial index's
 * WHERE (a bound parameter would not): sessions_in_progress_by_end, sessions_scheduled_by_end and
 * sessions_unsettled_by_end (whose `status IN (...)` term must appear verbatim). `INDEXED BY` pins
 * it: without statistics SQLite prefers sessions_by_status_and_time for the status term and then
 * filters and sorts every scheduled session (all future bookings) - seen in the query-plan test.
 */
const UNSETTLED = "s.settlementStatus = 'open' AND s.status IN ('completed', 'cancelled')";
const predicates: Record<
  SweepName,
  { index: string; where: string; hours: (c: ServiceContext["config"]) => number | null }
> = {
  auto_complete: {
    index: "sessions_in_progress_by_end",
    where: "s.status = 'in_progress' AND s.endTime <= ?",
    hours: (c) => c.AUTO_COMPLETE_HOURS,
  },
  not_held: {
    index: "sessions_scheduled_by_end",
    where: "s.status = 'scheduled' AND s.endTime <= ?",
    hours: (c) => c.REPORT_WINDOW_HOURS,
  },
  settle_held: {
    index: "sessions_unsettled_by_end",
    where: `${UNSETTLED} AND s.status = 'completed' AND s.endTime <= ?`,
    hours: (c) => c.SETTLEMENT_HOLD_HOURS,
  },
  // A late cancellation is settled at once: no time bound (the `?` is the far future).
  settle_cancelled: {
    index: "sessions_unsettled_by_end",
    where: `${UNSETTLED} AND s.status = 'cancelled' AND s.endTime <= ?`,
    hours: () => null,
  },
};

/** The due-rows query of a sweep (exported for the query-plan test: it must read its partial index). */
export const dueRowsSql = (sweep: SweepName, bounded = false) => `SELECT s.id, s.startTime, s.endTime, s.creditsCost,
  sp.userId AS studentUserId, CASE WHEN su.deletedAt IS NULL THEN su.email END AS studentEmail,
  tp.userId AS tutorUserId, CASE WHEN tu.deletedAt IS NULL THEN tu.email END AS tutorEmail
FROM sessions s INDEXED BY ${predicates[sweep].index}
JOIN studentProfiles sp ON sp.id = s.studentProfileId JOIN users su ON su.id = sp.userId
JOIN tutorProfiles tp ON tp.id = s.tutorProfileId JOIN users tu ON tu.id = tp.userId
WHERE ${predicates[sweep].where} AND (s.endTime, s.id) > (?, ?)${bounded ? " AND (s.endTime, s.id) <= (?, ?)" : ""}
ORDER BY s.endTime, s.id LIMIT ?`;

/** The due keys only (a covering read of the same partial index): how a chain message slices its window. */
export const dueKeysSql = (
  sweep: SweepName,
) => `SELECT s.endTime, s.id FROM sessions s INDEXED BY ${predicates[sweep].index}
WHERE ${predicates[sweep].where} AND (s.endTime, s.id) > (?, ?)
ORDER BY s.endTime, s.id LIMIT ?`;

const cutoffOf = (svc: ServiceContext, sweep: SweepName) => {
  const hours = predicates[sweep].hours(svc.config);
  return hours === null ? Number.MAX_SAFE_INTEGER : svc.clock.now() - hours * HOUR_MS;
};

async function dueRows(svc: ServiceContext, sweep: SweepName, limit: number, range: SweepRange) {
  const upper = range.until ? [range.until.endTime, range.until.id] : [];
  const { results } = await svc.d1
    .prepare(dueRowsSql(sweep, range.until !== undefined))
    .bind(cutoffOf(svc, sweep), range.after?.endTime ?? -1, range.after?.id ?? "", ...upper, limit)
    .all<Due>();
  return results;
}

type Mail = {
  userId: string;
  to: string | null;
  key: string;
  content: { subject: string; text: string; html: string };
};

async function sendMails(svc: ServiceContext, mails: Mail[]) {
  const jobs: QueueMessage[] = mails.flatMap((m) =>
    m.to ? [{ type: "email.send" as const, to: m.to, idempotencyKey: m.key, ...m.content }] : [],
  );
  for (let i = 0; i < jobs.length; i += EMAIL_CHUNK) await enqueueMany(svc, jobs.slice(i, i + EMAIL_CHUNK));
}

/** Auto-complete: one D1 batch for the whole batch of rows (an UPDATE and two notifications each). */
async function autoComplete(svc: ServiceContext, rows: Due[]): Promise<Due[]> {
  if (rows.length === 0) return [];
  const now = svc.clock.now();
  const statements: D1PreparedStatement[] = [];
  const updates: number[] = [];
  for (const s of rows) {
    const transitionId = newId("trn");
    updates.push(statements.length);
    statements.push(
      svc.d1
        .prepare(
          "UPDATE sessions SET status = 'completed', transitionId = ?, updatedAt = ? WHERE id = ? AND status = 'in_progress'",
        )
        .bind(transitionId, now, s.id),
    );
    const byThis = {
      sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND transitionId = ?)",
      binds: [s.id, transitionId],
    };
    for (const userId of [s.studentUserId, s.tutorUserId]) {
      statements.push(
        insertNotification(
          svc.d1,
          {
            id: newId("ntf"),
            userId,
            type: "session_auto_completed",
            data: { sessionId: s.id },
            dedupeKey: `session_auto_completed:${s.id}:${userId}`,
            createdAt: now,
          },
          byThis,
        ),
      );
    }
    statements.push(
      insertEvent(
        svc.d1,
        { type: "session.completed", objectId: s.id, dedupeKey: `session.completed:${s.id}`, at: now },
        byThis,
      ),
    );
  }
  const results = await svc.d1.batch(statements);
  const done = rows.filter((_, i) => (results[updates[i] ?? -1]?.meta.changes ?? 0) > 0);
  if (done.length > 0) announceEvents(svc);
  await sendMails(
    svc,
    done.flatMap((s) =>
      [
        { userId: s.studentUserId, to: s.studentEmail },
        { userId: s.tutorUserId, to: s.tutorEmail },
      ].map((r) => ({
        ...r,
        key: `session_auto_completed:${s.id}:${r.userId}`,
        content: templates.sessionAutoCompleted(whenText(s.startTime)),
      })),
    ),
  );
  return done;
}

/** One settling step for a due row; `undefined` when another run (or a person) changed it first. */
async function settleOne(svc: ServiceContext, sweep: Exclude<SweepName, "auto_complete">, row: Due) {
  // the due row carries the participants (its query joined them), and the step's guard decides on
  // the session's state inside the batch: no read of the session before or after the step
  const people = {
    studentUserId: row.studentUserId,
    studentEmail: row.studentEmail,
    tutorUserId: row.tutorUserId,
    tutorEmail: row.tutorEmail,
  };
  try {
    if (sweep === "not_held") {
      return await settleKnown(svc, row.id, people, {
        from: { status: ["scheduled"], settlement: ["open"] },
        set: { status: "cancelled", cancelledBy: "system", cancellationReason: "not_held" },
        refund: "all",
        notify: { type: "session_not_held", data: { refunded: true } },
      });
    }
    const cents = row.creditsCost * svc.config.TUTOR_PAYOUT_CENTS_PER_CREDIT;
    return await settleKnown(svc, row.id, people, {
      from: { status: [sweep === "settle_held" ? "completed" : "cancelled"], settlement: ["open"] },
      refund: 0,
      notify: [
        { to: "student", type: "session_settled", data: { refundedCredits: 0 } },
        {
          to: "tutor",
          type: "session_settled",
          data: { earnedCredits: row.creditsCost, tutorEarningsCents: cents, currency: svc.config.PAYOUT_CURRENCY },
        },
      ],
    });
  } catch (err) {
    if (err instanceof DomainError && err.code === "conflict") return undefined;
    console.log(
      JSON.stringify({ level: "error", msg: "sweep row failed", sweep, sessionId: row.id, error: String(err) }),
    );
    return undefined;
  }
}

async function settleBatch(svc: ServiceContext, sweep: Exclude<SweepName, "auto_complete">, rows: Due[]) {
  if (rows.length === 0) return [];
  const done: Due[] = [];
  const mails: Mail[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      const due = rows[i] as Due;
      const settled = await settleOne(svc, sweep, due);
      if (!settled) continue;
      done.push(due);
      const when = whenText(due.startTime);
      const cents = settled.result.tutorEarningsCents;
      for (const r of [
        { userId: due.studentUserId, to: due.studentEmail, role: "student" as const },
        { userId: due.tutorUserId, to: due.tutorEmail, role: "tutor" as const },
      ]) {
        const type = sweep === "not_held" ? "session_not_held" : "session_settled";
        mails.push({
          userId: r.userId,
          to: r.to,
          key: `${type}:${due.id}:${r.userId}`,
          content:
            sweep === "not_held"
              ? templates.sessionNotHeld(when)
              : templates.sessionSettled(when, r.role, cents, svc.config.PAYOUT_CURRENCY),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETTLE_CONCURRENCY, rows.length) }, worker));
  await sendMails(svc, mails);
  return done;
}

/** Runs one bounded batch of one sweep, inside `range` when given. */
export async function runSweepBatch(svc: ServiceContext, sweep: SweepName, range: SweepRange = {}): Promise<SweepRun> {
  const limit = range.limit ?? SWEEP_BATCH;
  const rows = await dueRows(svc, sweep, limit, range);
  const done = sweep === "auto_complete" ? await autoComplete(svc, rows) : await settleBatch(svc, sweep, rows);
  const last = rows[rows.length - 1];
  return {
    sweep,
    read: rows.length,
    acted: done.length,
    next: rows.length === limit && last ? { endTime: last.endTime, id: last.id } : undefined,
  };
}

/** Cron: the first batch of a sweep; a full batch starts a chain after it. */
export async function sweepAndContinue(svc: ServiceContext, sweep: SweepName, limit?: number): Promise<SweepRun> {
  const run = await runSweepBatch(svc, sweep, { limit });
  if (run.next) await enqueue(svc, { type: "sessions.sweep", sweep, after: run.next, limit });
  return run;
}

/**
 * A chain message: slices the next window of due keys into leaves (one batch each) and passes the
 * chain on when the window was full. Returns what it enqueued.
 */
export async function fanOut(svc: ServiceContext, sweep: SweepName, after: SweepCursor, limit = SWEEP_BATCH) {
  const { results: keys } = await svc.d1
    .prepare(dueKeysSql(sweep))
    .bind(cutoffOf(svc, sweep), after.endTime, after.id, FANOUT * limit)
    .all<SweepCursor>();
  const messages: QueueMessage[] = [];
  let from = after;
  for (let i = 0; i < keys.length; i += limit) {
    const until = keys[Math.min(i + limit, keys.length) - 1] as SweepCursor;
    messages.push({ type: "sessions.sweep", sweep, after: from, until, limit });
    from = until;
  }
  if (keys.length === FANOUT * limit) messages.push({ type: "sessions.sweep", sweep, after: from, limit });
  if (messages.length > 0) await enqueueMany(svc, messages);
  return messages;
}

/** The `sessions.sweep` job: a leaf runs its batch; a chain message fans out. */
export async function sweepJob(svc: ServiceContext, m: Extract<QueueMessage, { type: "sessions.sweep" }>) {
  if (m.until) await runSweepBatch(svc, m.sweep, { after: m.after, until: m.until, limit: m.limit });
  else await fanOut(svc, m.sweep, m.after, m.limit);
}
