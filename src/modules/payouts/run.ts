/**
 * Payout runs: `POST /v1/admin/payouts/run` and the daily cron. A run is a row (`payoutRuns`), then
 * slices of candidate tutors (payouts enabled, balance ≥ PAYOUT_MINIMUM_CENTS, nothing pending), each
 * paid by ONE step in the tutor's own CreditLedger object (payout-money.ts): the payout row and its
 * debit together. Two overlapping runs reach the same object one after the other; the second sees a
 * zero balance (or the pending payout) and writes nothing, so nobody is paid twice. Transfers are
 * queue jobs (transfer.ts); a full slice passes the rest of the run on to the jobs queue.
 */
import type { ServiceContext } from "../../context";
import { ledgerFor, unwrap } from "../../ledger/client";
import { newId } from "../../lib/crypto";
import { enqueue, enqueueMany } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { auditEntry, insertAudit } from "../audit/store";
import { payoutCandidatesSql } from "./candidates";

/** Candidate tutors per slice: each is one Durable Object call (a subrequest). */
export const PAYOUT_RUN_BATCH = 100;
/** Tutors paid at once within a slice (each in its own object, so they never wait on each other). */
const PARALLEL = 8;
/** A pending payout whose transfer job never ran (lost enqueue) is re-enqueued after this. */
export const UNATTEMPTED_AFTER_MS = 10 * 60 * 1000;

export type RunTrigger = { kind: "admin"; actorUserId: string } | { kind: "cron"; day: string };

export interface RunResult {
  runId: string;
  /** Payouts this request started (a run larger than one slice continues on the queue). */
  payouts: number;
  continuing: boolean;
}

/** The candidates of a slice (candidates.ts: the selection GET /v1/admin/payouts/due previews too). */
const candidatesSql = payoutCandidatesSql("a.userId, a.stripeAccountId");

/** Starts a run; null when the cron already ran today (one cron run per UTC day). */
export async function runPayouts(svc: ServiceContext, trigger: RunTrigger): Promise<RunResult | null> {
  const runId = newId("prun");
  const at = svc.clock.now();
  const insertRun = svc.d1
    .prepare(
      "INSERT INTO payoutRuns (id, trigger, actorUserId, cronDay, createdAt) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(
      runId,
      trigger.kind,
      trigger.kind === "admin" ? trigger.actorUserId : null,
      trigger.kind === "cron" ? trigger.day : null,
      at,
    );
  if (trigger.kind === "admin") {
    // the admin's audit row lives and dies with the run
    await svc.d1.batch([
      insertRun,
      insertAudit(svc.d1, auditEntry(svc, trigger.actorUserId, "payout.run", runId, { trigger: "admin" }, at), {
        sql: "EXISTS (SELECT 1 FROM payoutRuns WHERE id = ?)",
        binds: [runId],
      }),
    ]);
  } else {
    const inserted = await insertRun.run();
    if ((inserted.meta.changes ?? 0) === 0) return null;
  }
  const slice = await runSlice(svc, runId, "");
  return { runId, payouts: slice.started, continuing: slice.next !== null };
}

/** A slice whose tutors failed (a Durable Object error) is run again this many times, a minute apart. */
const SLICE_ROUNDS = 5;

/**
 * One slice: pay every candidate after `after`; a full slice enqueues the next. One tutor's failure
 * never stops the others: the slice is enqueued again (a step replayed in the same run returns its
 * payout and writes nothing). From a queue job, a failed enqueue throws so the job is retried; from a
 * request or the cron it is logged (the payouts are durable and the unattempted-payout sweep sends
 * their transfers).
 */
export async function runSlice(
  svc: ServiceContext,
  runId: string,
  after: string,
  opts: { round?: number; fromJob?: boolean } = {},
) {
  const config = svc.config;
  const round = opts.round ?? 0;
  const { results: candidates } = await svc.d1
    .prepare(candidatesSql)
    .bind(after, config.PAYOUT_MINIMUM_CENTS, PAYOUT_RUN_BATCH)
    .all<{ userId: string; stripeAccountId: string }>();
  const transfers: QueueMessage[] = [];
  let failed = 0;
  for (let i = 0; i < candidates.length; i += PARALLEL) {
    const results = await Promise.allSettled(
      candidates.slice(i, i + PARALLEL).map(async (c) =>
        unwrap(
          await ledgerFor(svc.env, c.userId).startPayout({
            userId: c.userId,
            runId,
            stripeAccountId: c.stripeAccountId,
            minimumCents: config.PAYOUT_MINIMUM_CENTS,
            currency: config.PAYOUT_CURRENCY,
            at: svc.clock.now(),
          }),
        ),
      ),
    );
    for (const r of results) {
      if (r.status === "rejected") {
        failed++;
        console.log(JSON.stringify({ level: "error", msg: "payout step failed", runId, error: String(r.reason) }));
      } else if (r.value.started && !r.value.replayed) {
        transfers.push({ type: "stripe.transfer", payoutId: r.value.payout.id });
      }
    }
  }
  const next = candidates.length === PAYOUT_RUN_BATCH ? (candidates.at(-1)?.userId ?? null) : null;
  try {
    if (transfers.length > 0) await enqueueMany(svc, transfers);
    if (next !== null) await enqueue(svc, { type: "payouts.run", runId, after: next });
    if (failed > 0 && round < SLICE_ROUNDS) {
      await enqueue(svc, { type: "payouts.run", runId, after, round: round + 1 }, 60);
    }
  } catch (err) {
    if (opts.fromJob) throw err;
    console.log(JSON.stringify({ level: "error", msg: "payout enqueue failed", runId, error: String(err) }));
  }
  log("payout run slice", { runId, after, round, candidates: candidates.length, started: transfers.length, failed });
  return { started: transfers.length, next, failed };
}

export async function payoutRunJob(svc: ServiceContext, m: Extract<QueueMessage, { type: "payouts.run" }>) {
  await runSlice(svc, m.runId, m.after, { round: m.round, fromJob: true });
}

/** The UTC day (`YYYY-MM-DD`) of `at`, once its hour reached PAYOUT_HOUR_UTC; else null. */
export function cronDayOf(at: number, hourUtc: number): string | null {
  const d = new Date(at);
  return d.getUTCHours() >= hourUtc ? d.toISOString().slice(0, 10) : null;
}

/** Cron: the daily run (once per UTC day, from PAYOUT_HOUR_UTC on) and the lost-job safety net. */
export async function scheduledPayouts(svc: ServiceContext) {
  const day = cronDayOf(svc.clock.now(), svc.config.PAYOUT_HOUR_UTC);
  const run = day ? await runPayouts(svc, { kind: "cron", day }) : null;
  const requeued = await requeueUnattempted(svc);
  return { run, requeued };
}

/** Pending payouts whose transfer job never started (its enqueue was lost): enqueued again. */
export async function requeueUnattempted(svc: ServiceContext): Promise<number> {
  const { results } = await svc.d1
    .prepare(
      "SELECT id FROM payouts INDEXED BY payouts_unattempted_by_time WHERE status = 'pending' AND attemptedAt IS NULL AND createdAt < ? ORDER BY createdAt LIMIT 50",
    )
    .bind(svc.clock.now() - UNATTEMPTED_AFTER_MS)
    .all<{ id: string }>();
  if (results.length > 0) {
    await enqueueMany(
      svc,
      results.map((r) => ({ type: "stripe.transfer", payoutId: r.id })),
    );
  }
  return results.length;
}

function log(msg: string, fields: Record<string, unknown>) {
  console.log(JSON.stringify({ level: "info", msg, ...fields }));
}
