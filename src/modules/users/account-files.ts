/**
 * A closed account's files in R2: its avatar (every object under `avatars/<tutorProfileId>/`, so an
 * upload that raced the closing is caught too) and the lesson audio of every session it took part
 * in, as student or as tutor (`sessionRecordings.s3Key`).
 *
 * They are deleted after the closing's D1 batch committed: first inline, in the request; if R2
 * fails, an `account.erase_files` job does it again, retried by the queue with backoff and, once its
 * retries are spent, recorded as a dead letter for admins (who can replay it). The job recomputes
 * the keys from D1, so a replay always reaches every file; deleting a missing key is a no-op.
 */
import { eq, inArray, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { type Db, openPrimary } from "../../db/client";
import { sessionRecordings, users } from "../../db/schema";
import { enqueue } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { type AccountProfiles, profilesOf, sessionPages } from "./account-pages";

/** R2 deletes at most 1000 keys per call. */
const R2_DELETE_MAX_KEYS = 1000;

const avatarPrefix = (tutorProfileId: string) => `avatars/${tutorProfileId}/`;

async function* avatarKeys(bucket: R2Bucket, tutorProfileId: string): AsyncGenerator<string[]> {
  let cursor: string | undefined;
  for (;;) {
    const listed = await bucket.list({ prefix: avatarPrefix(tutorProfileId), cursor });
    if (listed.objects.length > 0) yield listed.objects.map((o) => o.key);
    if (!listed.truncated) return;
    cursor = listed.cursor;
  }
}

/** The audio keys of the account's sessions, one page of sessions at a time. */
async function* recordingKeys(db: Db, user: AccountProfiles): AsyncGenerator<string[]> {
  for (const { role, profileId } of profilesOf(user)) {
    for await (const page of sessionPages(db, role, profileId)) {
      const ids = JSON.stringify(page.map((s) => s.id));
      const rows = await db
        .select({ s3Key: sessionRecordings.s3Key })
        .from(sessionRecordings)
        .where(inArray(sessionRecordings.sessionId, sql`(select value from json_each(${ids}))`));
      if (rows.length > 0) yield rows.map((r) => r.s3Key);
    }
  }
}

/** Deletes every file of a closed account; returns how many keys it deleted. An open account: none. */
export async function eraseAccountFiles(svc: ServiceContext, userId: string): Promise<number> {
  const { db } = openPrimary(svc.env.DB);
  const user = await db.query.users.findFirst({
    where: eq(users.id, userId),
    columns: { deletedAt: true, studentProfileId: true, tutorProfileId: true },
  });
  // a stray or forged message never erases the files of an account that is still open
  if (!user || user.deletedAt === null) return 0;
  let pending: string[] = [];
  let deleted = 0;
  const flush = async (all: boolean) => {
    while (pending.length >= R2_DELETE_MAX_KEYS || (all && pending.length > 0)) {
      const batch = pending.slice(0, R2_DELETE_MAX_KEYS);
      await svc.env.BUCKET.delete(batch);
      pending = pending.slice(batch.length);
      deleted += batch.length;
    }
  };
  const sources = [recordingKeys(db, user)];
  if (user.tutorProfileId) sources.push(avatarKeys(svc.env.BUCKET, user.tutorProfileId));
  for (const source of sources) {
    for await (const keys of source) {
      pending.push(...keys);
      await flush(false);
    }
  }
  await flush(true);
  return deleted;
}

export async function eraseAccountFilesJob(
  svc: ServiceContext,
  m: Extract<QueueMessage, { type: "account.erase_files" }>,
): Promise<void> {
  await eraseAccountFiles(svc, m.userId);
}

const log = (level: "warn" | "error", msg: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ level, msg, ...fields }));

/**
 * Right after the closing committed: deletes the files now, or hands them to the retried job. If
 * even the queue refuses, the failure is logged as an error with the user id, which is all an
 * operator needs to replay the erasure (docs/operations.md); the account stays closed either way.
 */
export async function eraseAccountFilesNowOrLater(svc: ServiceContext, userId: string): Promise<void> {
  try {
    await eraseAccountFiles(svc, userId);
  } catch (err) {
    log("warn", "account files not erased inline; queued", { userId, requestId: svc.requestId, error: String(err) });
    try {
      await enqueue(svc, { type: "account.erase_files", userId });
    } catch (queueErr) {
      log("error", "account files not erased and not queued", {
        userId,
        requestId: svc.requestId,
        error: String(queueErr),
      });
    }
  }
}
