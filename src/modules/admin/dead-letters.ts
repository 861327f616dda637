/**
 * Dead letters: queue messages that exhausted their retries or were refused. An admin can replay one
 * once its cause is fixed: the stored message is validated again and re-enqueued to its queue. Jobs are
 * idempotent, so a replayed payment fulfilment credits its order at most once. E-mails are stored
 * without their content (they can carry login codes) and payment mismatches are records, not jobs:
 * neither can be replayed (409). Every replay is an admin action with its audit row (`dead_letter.replay`).
 */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { keysetAfter } from "../../db/keyset";
import { deadLetters } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, notFound } from "../../lib/errors";
import { enqueue } from "../../queues/enqueue";
import { queueMessage } from "../../queues/messages";
import { auditEntry, insertAudit } from "../audit/store";

export async function replayDeadLetter(svc: ServiceContext, adminId: string, id: string) {
  const row = await svc.db.query.deadLetters.findFirst({ where: eq(deadLetters.id, id) });
  if (!row) throw notFound("Dead letter");
  let stored: unknown;
  try {
    stored = (JSON.parse(row.body) as { body?: unknown }).body;
  } catch {
    stored = undefined;
  }
  const parsed = queueMessage.safeParse(stored);
  if (!parsed.success) throw conflict("This dead letter is a record, not a job that can run again");
  const now = svc.clock.now();
  const replayCount = row.replayCount + 1;
  // The audit row first, then the replay's record, both guarded on the count that was read: they see
  // the same state, so the row exists exactly when the record does (of two concurrent replays of one
  // dead letter, exactly one is recorded; the other is 409).
  const details = { type: parsed.data.type, queue: row.queue, messageId: row.messageId, replayCount };
  const [, recorded] = await svc.d1.batch([
    insertAudit(svc.d1, auditEntry(svc, adminId, "dead_letter.replay", id, details, now), {
      sql: "EXISTS (SELECT 1 FROM deadLetters WHERE id = ? AND replayCount = ?)",
      binds: [id, row.replayCount],
    }),
    toStatement(
      svc.d1,
      svc.db
        .update(deadLetters)
        .set({ replayedAt: now, replayCount })
        .where(and(eq(deadLetters.id, id), eq(deadLetters.replayCount, row.replayCount))),
    ),
  ]);
  if ((recorded?.meta.changes ?? 0) === 0) throw conflict("This dead letter is being replayed; reload it");
  // A queue send cannot join a D1 transaction: it follows the record, so a failed send (5xx) leaves a
  // replay recorded that did not run, never a run that is not recorded. Replaying again is safe.
  await enqueue(svc, parsed.data);
  return { id, type: parsed.data.type, replayedAt: now, replayCount };
}

/** Newest first, cursor pages on deadLetters_by_createdAt. */
export async function listDeadLetters(svc: ServiceContext, q: { limit: number; cursor?: string }) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(deadLetters)
    .where(keysetAfter(deadLetters.createdAt, deadLetters.id, after))
    .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
    .limit(q.limit + 1);
  return page(
    rows,
    q.limit,
    (r) => r,
    (r) => [r.createdAt, r.id],
  );
}
