/**
 * Booking one session in two round trips around the ledger's batch: ONE batch reads everything the
 * decision needs (the tutor, the subject link, the tutor's address, the calendar — and, under an
 * Idempotency-Key, an earlier booking of the same request), the student's CreditLedger writes the
 * session and its debit in its transaction, and ONE batch reads the booked row back with the state
 * the liveness check needs (refuseIfNoLongerBookable). All on the primary: a write path decides on
 * the latest rows.
 */
import { and, eq } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { openPrimary } from "../../db/client";
import { sessions, tutorProfiles, tutorSubjects, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor, unwrap } from "../../ledger/client";
import { newId, sha256Hex } from "../../lib/crypto";
import { badRequest, DomainError, notFound } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { refusal } from "../tutors/booking-rules";
import { calendarFrom, calendarQueries } from "../tutors/tutor-calendar";
import { sessionView } from "./access";
import type { BookRequest } from "./schemas";
import { bookableTutorQuery, claimOf, creditsCostOf, refuseIfNotLive, studentProfileOf, whenText } from "./service";

/**
 * The booking's session id. Under an `Idempotency-Key` it is derived from (user, key, body), so a
 * retry after a failure that the idempotency record did not keep (a 5xx) reaches the ledger's
 * `booking:<sessionId>` key again and replays instead of booking twice.
 */
async function bookingId(userId: string, input: BookRequest, idempotencyKey?: string) {
  if (!idempotencyKey) return newId("ses");
  return `ses_${(await sha256Hex(`${userId}\n${idempotencyKey}\n${JSON.stringify(input)}`)).slice(0, 32)}`;
}

export async function bookSession(svc: ServiceContext, auth: Auth, input: BookRequest, idempotencyKey?: string) {
  const studentProfileId = studentProfileOf(auth);
  const { db } = openPrimary(svc.env.DB);
  const startTime = input.startTime;
  const endTime = startTime + input.durationMinutes * 60_000;
  const sessionId = await bookingId(auth.userId, input, idempotencyKey);
  const [tutors, links, earlier, ...calendarRows] = await db.batch([
    bookableTutorQuery(db, input.tutorProfileId),
    db
      .select({ subjectId: tutorSubjects.subjectId })
      .from(tutorSubjects)
      .where(and(eq(tutorSubjects.tutorProfileId, input.tutorProfileId), eq(tutorSubjects.subjectId, input.subjectId)))
      .limit(1),
    // a retry of a booking that went through (its stored response was lost, or it answered 5xx after
    // the ledger's commit) is answered again: the calendar would refuse it now, it holds this session
    db.select({ id: sessions.id }).from(sessions).where(eq(sessions.id, sessionId)).limit(1),
    ...calendarQueries({ db }, input.tutorProfileId, startTime, endTime),
  ]);
  const tutor = tutors[0];
  if (!tutor) throw notFound("Tutor");
  if (tutor.userId === auth.userId) {
    throw badRequest("You cannot book yourself", [{ path: "tutorProfileId", message: "Your own profile" }]);
  }
  if (links.length === 0) {
    throw badRequest("The tutor does not teach this subject", [
      { path: "subjectId", message: "Not taught by this tutor" },
    ]);
  }
  const replayed = idempotencyKey !== undefined && earlier.length > 0;
  if (!replayed) {
    const { calendar } = calendarFrom(
      svc,
      calendarRows as unknown as Parameters<typeof calendarFrom>[1],
      startTime,
      endTime,
    );
    const refused = refusal(calendar, startTime, endTime);
    if (refused) throw new DomainError("slot_unavailable", refused.message);
    unwrap(
      await ledgerFor(svc.env, auth.userId).bookSession({
        userId: auth.userId,
        sessionId,
        tutorUserId: tutor.userId,
        claim: claimOf(calendar, tutor.id, studentProfileId, startTime, endTime),
        subjectId: input.subjectId,
        creditsCost: creditsCostOf(tutor.hourlyCreditsPrice, input.durationMinutes),
        description: `Session with ${tutor.displayName} (${input.durationMinutes} min)`,
        at: svc.clock.now(),
      }),
    );
  }
  // the booked row and what the liveness check reads, in one batch after the ledger's commit
  const [rows, live] = await db.batch([
    db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1),
    db
      .select({ closedAt: users.deletedAt, tutorStatus: tutorProfiles.status })
      .from(users)
      .leftJoin(tutorProfiles, eq(tutorProfiles.id, tutor.id))
      .where(eq(users.id, auth.userId))
      .limit(1),
  ]);
  const session = rows[0];
  if (!session) throw new Error("booked session not found");
  if (!replayed) {
    await refuseIfNotLive(svc, [session], auth.userId, {
      closedAt: live[0]?.closedAt ?? null,
      tutorStatus: live[0]?.tutorStatus ?? null,
    });
  }
  const jobs: QueueMessage[] = [
    { type: "video.create_room", sessionId },
    {
      type: "email.send",
      to: auth.user.email,
      idempotencyKey: `session_scheduled:${sessionId}:${auth.userId}`,
      ...templates.sessionScheduled(whenText(startTime), tutor.displayName, "tutor"),
    },
  ];
  if (tutor.email) {
    jobs.push({
      type: "email.send",
      to: tutor.email,
      idempotencyKey: `session_scheduled:${sessionId}:${tutor.userId}`,
      // the student's own name or none: their e-mail address is theirs, never shown to the tutor
      ...templates.sessionScheduled(whenText(startTime), auth.user.name, "student"),
    });
  }
  enqueueAfterCommit(svc, jobs);
  return sessionView(session);
}
