/**
 * `DELETE /v1/me`: closing an account. In this order, each step safe to run again:
 *
 * 1. Every future `scheduled` session (as student or as tutor) is cancelled as if by an admin,
 *    through the student's CreditLedger (`sessions/service.ts` `cancelThroughLedger`): full refund,
 *    both parties notified in-app, the other party by e-mail. Each cancellation is one transaction
 *    whose refund is keyed `refund:<sessionId>`, and a session already cancelled is skipped, so a
 *    retried or concurrent DELETE never refunds twice.
 * 2. ONE D1 batch (one transaction): the e-mail becomes a pseudonym, names and bio are erased, the
 *    tutor profile is suspended (`account_closed`), every refresh token is revoked, the old address's
 *    login codes, the user's idempotency records and calendar feed are deleted, the transcripts of the user's
 *    sessions (recordings, Deepgram callback payloads, the report's raw transcript) are erased, and
 *    `deletedAt` is set — from then on the user's access tokens are 401 (http/auth.ts).
 * 3. Step 1 again, for a booking that was already past its checks when the batch committed.
 * 4. The R2 files (avatar, lesson audio), after the commit: see account-files.ts.
 *
 * Ledger entries, orders, card refunds and sessions stay, pointing at the same (now pseudonymous)
 * user id: they are the accounting. A new login with the old address finds no user and creates a
 * new, empty account.
 */

import { and, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { ServiceContext } from "../../context";
import { openPrimary } from "../../db/client";
import {
  calendarFeeds,
  deepgramWebhooks,
  idempotencyRecords,
  lessonReports,
  otpCodes,
  refreshTokens,
  reviews,
  sessionRecordings,
  sessions,
  studentProfiles,
  tutorProfiles,
  users,
} from "../../db/schema";
import { DomainError } from "../../lib/errors";
import { cancelThroughLedger } from "../sessions/service";
import { relistStatements } from "../tutors/listing";
import { eraseAccountFilesNowOrLater } from "./account-files";
import { type AccountProfiles, profilesOf, type SessionRole, sessionPages } from "./account-pages";

type ClosingUser = AccountProfiles & { id: string; email: string };

/** The reason on the cancelled sessions and the suspended tutor profile. */
export const ACCOUNT_CLOSED = "account_closed";
/** What a closed account's profiles show in place of a name. */
export const CLOSED_DISPLAY_NAME = "Deleted user";
/** Unique (the user id is) and undeliverable (`.invalid` is reserved, RFC 2606): never a real address. */
export const pseudonymEmail = (userId: string) => `deleted+${userId}@deleted.invalid`;
/** Where a closed participant's transcript was (the recording row stays for the other participant). */
export const ERASED_TRANSCRIPT = "Erased: a participant closed their account";
/** Stands in for a Deepgram callback payload (it held the transcript). */
const ERASED_PAYLOAD = JSON.stringify({ erased: ACCOUNT_CLOSED });

export async function closeAccount(svc: ServiceContext, userId: string): Promise<void> {
  // the user row as it is now on the primary (a profile created a moment ago counts)
  const user = await openPrimary(svc.env.DB).db.query.users.findFirst({ where: eq(users.id, userId) });
  if (!user || user.deletedAt !== null) return;
  await cancelFutureSessions(svc, user);
  await svc.db.batch(erasure(svc, user, svc.clock.now()));
  await cancelFutureSessions(svc, user);
  await eraseAccountFilesNowOrLater(svc, user.id);
}

/** Cancels every future `scheduled` session of the user with a full refund; returns how many. */
export async function cancelFutureSessions(svc: ServiceContext, user: ClosingUser): Promise<number> {
  // read on the primary: a session booked a moment ago must not be missed on a lagging replica
  const { db } = openPrimary(svc.env.DB);
  const now = svc.clock.now();
  let cancelled = 0;
  for (const { role, profileId } of profilesOf(user)) {
    for await (const page of sessionPages(db, role, profileId, { startingAfter: now })) {
      for (const session of page) {
        if (session.status !== "scheduled") continue;
        try {
          await cancelThroughLedger(svc, session, {
            by: "admin",
            refund: true,
            reason: ACCOUNT_CLOSED,
            quietFor: user.id,
          });
          cancelled++;
        } catch (err) {
          // cancelled meanwhile (a concurrent DELETE, the other party): nothing is left to do
          if (err instanceof DomainError && err.code === "conflict") continue;
          throw err;
        }
      }
    }
  }
  return cancelled;
}

/** The ids of the profile's sessions, as a subquery on its (profileId, startTime, id) index. */
function sessionIdsOf(svc: ServiceContext, role: SessionRole, profileId: string) {
  const column = role === "tutor" ? sessions.tutorProfileId : sessions.studentProfileId;
  return svc.db.select({ id: sessions.id }).from(sessions).where(eq(column, profileId));
}

/** The transcripts of one profile's sessions, wherever they are stored. */
function transcriptErasure(svc: ServiceContext, role: SessionRole, profileId: string, now: number) {
  const ofSessions = inArray(sessionRecordings.sessionId, sessionIdsOf(svc, role, profileId));
  const live: SQL = sql`CASE WHEN ${sessionRecordings.transcriptionStatus} IN ('pending', 'processing') THEN 'failed' ELSE ${sessionRecordings.transcriptionStatus} END`;
  return [
    svc.db
      .update(deepgramWebhooks)
      .set({ payload: ERASED_PAYLOAD })
      .where(
        inArray(
          deepgramWebhooks.sessionRecordingId,
          svc.db.select({ id: sessionRecordings.id }).from(sessionRecordings).where(ofSessions),
        ),
      ),
    svc.db
      .update(sessionRecordings)
      .set({
        // a transcription still running stops: its callback and report job find nothing to continue
        transcriptionStatus: live,
        transcriptionText: null,
        callbackSecretHash: null,
        transcriptionError: ERASED_TRANSCRIPT,
        updatedAt: now,
      })
      .where(ofSessions),
    svc.db
      .update(lessonReports)
      .set({ rawTranscript: null })
      .where(inArray(lessonReports.sessionId, sessionIdsOf(svc, role, profileId))),
  ];
}

/** Step 2's statements, for one batch. */
function erasure(svc: ServiceContext, user: ClosingUser, now: number): [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]] {
  return [
    svc.db
      .update(users)
      .set({ email: pseudonymEmail(user.id), name: null, deletedAt: now, updatedAt: now })
      .where(and(eq(users.id, user.id), isNull(users.deletedAt))),
    svc.db
      .update(studentProfiles)
      .set({ displayName: CLOSED_DISPLAY_NAME, updatedAt: now })
      .where(eq(studentProfiles.userId, user.id)),
    svc.db
      .update(tutorProfiles)
      .set({
        displayName: CLOSED_DISPLAY_NAME,
        bio: "",
        avatarS3Key: null,
        avatarContentType: null,
        status: "suspended",
        statusReason: ACCOUNT_CLOSED,
        updatedAt: now,
      })
      .where(eq(tutorProfiles.userId, user.id)),
    // a review's rating stays (the tutor's average is built from it); its words were the student's
    ...(user.studentProfileId
      ? [svc.db.update(reviews).set({ comment: null }).where(eq(reviews.studentProfileId, user.studentProfileId))]
      : []),
    // a suspended tutor leaves the directory in the same step
    ...(user.tutorProfileId ? relistStatements(svc.db, user.tutorProfileId) : []),
    svc.db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.userId, user.id), isNull(refreshTokens.revokedAt))),
    svc.db.delete(otpCodes).where(eq(otpCodes.email, user.email)),
    svc.db.delete(idempotencyRecords).where(eq(idempotencyRecords.userId, user.id)),
    // the private calendar URL stops working (the feed also refuses a closed account by itself)
    svc.db.delete(calendarFeeds).where(eq(calendarFeeds.userId, user.id)),
    ...profilesOf(user).flatMap(({ role, profileId }) => transcriptErasure(svc, role, profileId, now)),
  ];
}
