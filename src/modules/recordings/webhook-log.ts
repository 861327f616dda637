/** Admin: the logged Deepgram callbacks of one request or one recording, newest first. */
import { and, desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { deepgramWebhooks } from "../../db/schema";
import { decodeCursor, page } from "../../lib/cursor";
import { badRequest } from "../../lib/errors";

export async function listDeepgramCallbacks(
  svc: ServiceContext,
  q: { limit: number; cursor?: string; requestId?: string; recordingId?: string },
) {
  if ((q.requestId === undefined) === (q.recordingId === undefined)) {
    throw badRequest("Give exactly one of requestId or recordingId", [
      { path: "requestId", message: "Give exactly one of requestId or recordingId" },
    ]);
  }
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(deepgramWebhooks)
    .where(
      and(
        q.requestId !== undefined
          ? eq(deepgramWebhooks.requestId, q.requestId)
          : eq(deepgramWebhooks.sessionRecordingId, q.recordingId as string),
        keysetAfter(deepgramWebhooks.processedAt, deepgramWebhooks.id, after),
      ),
    )
    .orderBy(desc(deepgramWebhooks.processedAt), desc(deepgramWebhooks.id))
    .limit(q.limit + 1);
  return page(
    rows,
    q.limit,
    (r) => r,
    (r) => [r.processedAt, r.id],
  );
}
