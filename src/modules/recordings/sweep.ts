/**
 * Cron sweep: nothing stays `pending` or `processing` forever. A recording whose transcription was
 * never sent (its job died in the dead-letter queue) or whose callback never came is retried;
 * once it is older than GIVE_UP_MS it is failed with a reason. Each action is a conditional update
 * on the row's `updatedAt`, so overlapping cron runs act once.
 */
import { and, asc, eq, lt } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { sessionRecordings } from "../../db/schema";
import { enqueue } from "../../queues/enqueue";

export const STALE_PENDING_MS = 30 * 60 * 1000;
export const STALE_PROCESSING_MS = 2 * 60 * 60 * 1000;
export const GIVE_UP_MS = 12 * 60 * 60 * 1000;
const BATCH = 50;

export interface SweepResult {
  retried: number;
  failed: number;
}

export async function sweepStaleRecordings(svc: ServiceContext, now = svc.clock.now()): Promise<SweepResult> {
  const result: SweepResult = { retried: 0, failed: 0 };
  for (const [status, staleMs] of [
    ["pending", STALE_PENDING_MS],
    ["processing", STALE_PROCESSING_MS],
  ] as const) {
    const rows = await svc.db
      .select({
        id: sessionRecordings.id,
        createdAt: sessionRecordings.createdAt,
        updatedAt: sessionRecordings.updatedAt,
      })
      .from(sessionRecordings)
      .where(and(eq(sessionRecordings.transcriptionStatus, status), lt(sessionRecordings.updatedAt, now - staleMs)))
      .orderBy(asc(sessionRecordings.updatedAt))
      .limit(BATCH);
    for (const row of rows) {
      const giveUp = row.createdAt < now - GIVE_UP_MS;
      const guard = and(
        eq(sessionRecordings.id, row.id),
        eq(sessionRecordings.transcriptionStatus, status),
        eq(sessionRecordings.updatedAt, row.updatedAt),
      );
      const reason =
        status === "pending"
          ? "The transcription could not be requested (the provider kept failing)"
          : "Deepgram never called back";
      const changed = await svc.db
        .update(sessionRecordings)
        .set(
          giveUp
            ? { transcriptionStatus: "failed", transcriptionError: reason, updatedAt: now }
            : { transcriptionStatus: "pending", deepgramRequestId: null, updatedAt: now },
        )
        .where(guard)
        .returning({ id: sessionRecordings.id });
      if (changed.length === 0) continue;
      if (giveUp) {
        result.failed++;
      } else {
        await enqueue(svc, { type: "transcription.request", recordingId: row.id });
        result.retried++;
      }
    }
  }
  if (result.retried || result.failed) {
    console.log(JSON.stringify({ level: "warn", msg: "stale recordings swept", ...result }));
  }
  return result;
}
