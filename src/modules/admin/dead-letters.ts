/**
 * Dead letters: queue messages that exhausted their retries or were refused. An admin can replay one
 * once its cause is fixed: the stored message is validated again and re-enqueued to its queue. Jobs are
 * idempotent, so a replayed payment fulfilment credits its order at most once. E-mails are stored
 * without their content (they can carry login codes) and payment mismatches are records, not jobs:
 * neither can be replayed (409).
 */
import { desc, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { deadLetters } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, notFound } from "../../lib/errors";
import { enqueue } from "../../queues/enqueue";
import { queueMessage } from "../../queues/messages";

export async function replayDeadLetter(svc: ServiceContext, id: string) {
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
  const [updated] = await svc.db
    .update(deadLetters)
    .set({ replayedAt: now, replayCount: sql`${deadLetters.replayCount} + 1` })
    .where(eq(deadLetters.id, id))
    .returning();
  await enqueue(svc, parsed.data);
  return { id, type: parsed.data.type, replayedAt: now, replayCount: updated?.replayCount ?? row.replayCount + 1 };
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
