/**
 * Moving a scheduled lesson to another time: same duration, same cost, no ledger entry, same room.
 *
 * The move is ONE conditional UPDATE: it takes effect only if the session is still `scheduled` at the
 * start this request read, the tutor is still approved, and the new time is free under the booking
 * rules SQL checks (booking-sql.ts: the tutor's buffers, time off and daily cap — the session itself
 * left out — and the student's other sessions). D1 runs each statement atomically and one at a time,
 * and a booking's INSERT carries the same NOT EXISTS guards, so whichever of two racing writes runs
 * second sees the first: a reschedule and a booking of one free slot, two reschedules into one slot,
 * or two reschedules of one session — exactly one wins. With no credits moving, the student's
 * CreditLedger has nothing to serialize, so the move does not go through it.
 *
 * The same batch resets both reminder claims (a reminder sent for the old time must not block the
 * new time's; their dedupe keys carry the start time) and writes the other participant's in-app
 * notification and, for an admin, the audit row — each guarded on the move having happened.
 *
 * Round trips: the session (its access check), ONE batch of everything the decision needs, and the
 * write batch, whose UPDATE returns the moved row.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { openPrimary } from "../../db/client";
import { rowFromDriver } from "../../db/rows";
import { sessions, studentProfiles, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { slotFree } from "../../ledger/booking-sql";
import { newId } from "../../lib/crypto";
import { conflict, DomainError } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { auditEntry, insertAudit } from "../audit/store";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { refusal } from "../tutors/booking-rules";
import { type CalendarResults, calendarFrom, calendarQueries } from "../tutors/tutor-calendar";
import { accessSession, sessionView } from "./access";
import type { RescheduleRequest } from "./schemas";
import { bookableTutorQuery, claimOf, primarySession, whenText } from "./service";

const HOUR_MS = 60 * 60 * 1000;

type Mover = "student" | "tutor" | "admin";

export async function rescheduleSession(svc: ServiceContext, auth: Auth, id: string, input: RescheduleRequest) {
  const { session, asStudent, asTutor } = await accessSession(svc, auth, id);
  if (session.status !== "scheduled") throw conflict(`A ${session.status} session cannot be rescheduled`);
  // An admin who is also the session's student moves it as the student (the student's window).
  const by: Mover = asStudent ? "student" : asTutor ? "tutor" : "admin";
  const now = svc.clock.now();
  const windowMs = by === "student" ? svc.config.RESCHEDULE_WINDOW_HOURS * HOUR_MS : 0;
  if (now >= session.startTime || session.startTime - now < windowMs) {
    throw new DomainError(
      "policy_window_closed",
      by === "student"
        ? `Students can reschedule until ${svc.config.RESCHEDULE_WINDOW_HOURS} hours before the start`
        : "A session can be rescheduled only before its start",
    );
  }
  // A retry of a move that already happened (its response was lost): the session is where it was asked to be.
  if (input.startTime === session.startTime) return sessionView(session);

  const startTime = input.startTime;
  const endTime = startTime + (session.endTime - session.startTime);
  // ONE batch for everything the move decides on: the tutor (approved), both people's open-account
  // addresses and the calendar without this session; on the primary, as a write path
  const { db } = openPrimary(svc.env.DB);
  const [tutors, students, ...calendarRows] = await db.batch([
    bookableTutorQuery(db, session.tutorProfileId),
    db
      .select({ userId: studentProfiles.userId, email: users.email })
      .from(studentProfiles)
      .leftJoin(users, and(eq(users.id, studentProfiles.userId), isNull(users.deletedAt)))
      .where(eq(studentProfiles.id, session.studentProfileId))
      .limit(1),
    ...calendarQueries({ db }, session.tutorProfileId, startTime, endTime, { movingSessionId: session.id }),
  ]);
  const tutor = tutors[0];
  if (!tutor) throw new DomainError("slot_unavailable", "The tutor is not taking bookings");
  const student = students[0];
  if (!student) throw new Error(`session ${session.id} has a missing student profile`);
  const { calendar } = calendarFrom(svc, calendarRows as unknown as CalendarResults, startTime, endTime, {
    movingSessionId: session.id,
  });
  const refused = refusal(calendar, startTime, endTime);
  if (refused) throw new DomainError("slot_unavailable", refused.message);
  const claim = claimOf(calendar, tutor.id, session.studentProfileId, startTime, endTime, session.id);
  const [studentUserId, tutorUserId] = [student.userId, tutor.userId];
  const emailOf = (userId: string) => (userId === tutorUserId ? tutor.email : student.email);

  const free = slotFree(claim);
  const move = svc.d1
    .prepare(
      `UPDATE sessions SET startTime = ?, endTime = ?, rescheduledAt = ?, updatedAt = ?, rescheduleCount = rescheduleCount + 1,
  reminder24hSentAt = NULL, reminder1hSentAt = NULL
WHERE id = ? AND status = 'scheduled' AND startTime = ?
  AND EXISTS (SELECT 1 FROM tutorProfiles WHERE id = ? AND status = 'approved')
  AND ${free.sql}
RETURNING *`,
    )
    .bind(startTime, endTime, now, now, session.id, session.startTime, session.tutorProfileId, ...free.binds);
  // Holds exactly when this request's move took effect (its new start, stamped at `now`).
  const moved = {
    sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND startTime = ? AND rescheduledAt = ?)",
    binds: [session.id, startTime, now],
  };
  const notified = by === "student" ? [tutorUserId] : by === "tutor" ? [studentUserId] : [studentUserId, tutorUserId];
  // The move's identity: its new start and its time, so moving back and forth notifies every time.
  const key = (userId: string) => `session_rescheduled:${session.id}:${startTime}:${now}:${userId}`;
  const [result] = await svc.d1.batch([
    move,
    ...notified.map((userId) =>
      insertNotification(
        svc.d1,
        {
          id: newId("ntf"),
          userId,
          type: "session_rescheduled",
          data: {
            sessionId: session.id,
            previousStartTime: session.startTime,
            startTime,
            endTime,
            rescheduledBy: by,
          },
          dedupeKey: key(userId),
          createdAt: now,
        },
        moved,
      ),
    ),
    ...(by === "admin"
      ? [
          insertAudit(
            svc.d1,
            auditEntry(svc, auth.userId, "session.reschedule", session.id, {
              previousStartTime: session.startTime,
              startTime,
            }),
            moved,
          ),
        ]
      : []),
    insertEvent(
      svc.d1,
      {
        type: "session.rescheduled",
        objectId: session.id,
        dedupeKey: `session.rescheduled:${session.id}:${startTime}:${now}`,
        at: now,
      },
      moved,
    ),
  ]);
  // the moved row comes back from the UPDATE itself (RETURNING): no read after the write
  const returned = (result?.results as Record<string, unknown>[] | undefined)?.[0];
  if (!returned) await refuseMove(svc, session.id, session.startTime);
  announceEvents(svc);
  const updated = rowFromDriver(sessions, returned ?? {});

  const moverName = by === "student" ? auth.user.name : by === "tutor" ? tutor.displayName : null;
  const jobs: QueueMessage[] = [];
  for (const userId of notified) {
    const to = emailOf(userId);
    if (to) {
      jobs.push({
        type: "email.send",
        to,
        idempotencyKey: key(userId),
        ...templates.sessionRescheduled(whenText(session.startTime), whenText(startTime), moverName, by),
      });
    }
  }
  enqueueAfterCommit(svc, jobs);
  return sessionView(updated);
}

/** Why the conditional move did not apply: the session changed meanwhile (409 conflict), or the slot is taken. */
async function refuseMove(svc: ServiceContext, id: string, readStart: number): Promise<never> {
  const current = await primarySession(svc, id);
  if (current?.status !== "scheduled" || current.startTime !== readStart)
    throw conflict("The session changed meanwhile; reload it");
  throw new DomainError("slot_unavailable", "The tutor or the student has another session at that time");
}
