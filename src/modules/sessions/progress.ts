/**
 * A lesson being held: the tutor starts it (from 15 minutes before its start until its end) and the
 * tutor or an admin completes it, which opens the student's dispute window. Each is ONE conditional
 * UPDATE that stamps a fresh `transitionId`, batched with what it announces (the student's notice
 * of a completion, an admin's audit row), guarded by that id: they exist exactly when this request's
 * change does, never for a concurrent step that won instead.
 */
import type { Auth, ServiceContext } from "../../context";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { conflict, forbidden, notFound } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import { auditEntry, insertAudit } from "../audit/store";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { accessSession, sessionView } from "./access";
import { participants, primarySession, userEmail, whenText } from "./service";

export const START_EARLY_MS = 15 * 60 * 1000;

const byTransition = (id: string, transitionId: string) => ({
  sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND transitionId = ?)",
  binds: [id, transitionId],
});

export async function startSession(svc: ServiceContext, auth: Auth, id: string) {
  const { session, asTutor } = await accessSession(svc, auth, id);
  if (!asTutor) throw forbidden("Only the session's tutor can start it");
  if (session.status !== "scheduled") throw conflict(`A ${session.status} session cannot be started`);
  const now = svc.clock.now();
  if (now < session.startTime - START_EARLY_MS)
    throw conflict("Sessions can be started from 15 minutes before their start");
  // After its end a lesson that never started is a no-show or not held: starting it then would turn
  // "everything back to the student" into "held" without the student.
  if (now >= session.endTime) throw conflict("The session's time is over; report a no-show instead");
  const transitionId = newId("trn");
  const out = await svc.d1
    .prepare(
      `UPDATE sessions SET status = 'in_progress', transitionId = ?, updatedAt = ?
WHERE id = ? AND status = 'scheduled' AND startTime <= ? AND endTime > ?`,
    )
    .bind(transitionId, now, id, now + START_EARLY_MS, now)
    .run();
  if ((out.meta.changes ?? 0) === 0) throw conflict("The session changed; reload it");
  const row = await primarySession(svc, id);
  if (!row) throw notFound("Session");
  return sessionView(row);
}

export async function completeSession(svc: ServiceContext, auth: Auth, id: string) {
  const { session, asTutor, asAdmin } = await accessSession(svc, auth, id);
  if (!asTutor && !asAdmin) throw forbidden("Only the session's tutor or an admin can complete it");
  if (session.status !== "in_progress") throw conflict(`A ${session.status} session cannot be completed`);
  const now = svc.clock.now();
  const transitionId = newId("trn");
  const guard = byTransition(id, transitionId);
  const { studentUserId } = await participants(svc, session);
  const [result] = await svc.d1.batch([
    svc.d1
      .prepare(
        "UPDATE sessions SET status = 'completed', transitionId = ?, updatedAt = ? WHERE id = ? AND status = 'in_progress'",
      )
      .bind(transitionId, now, id),
    // the student learns the lesson is held: the dispute window starts now
    insertNotification(
      svc.d1,
      {
        id: newId("ntf"),
        userId: studentUserId,
        type: "session_completed",
        data: { sessionId: id },
        dedupeKey: `session_completed:${id}:${studentUserId}`,
        createdAt: now,
      },
      guard,
    ),
    ...(asTutor ? [] : [insertAudit(svc.d1, auditEntry(svc, auth.userId, "session.complete", id, {}, now), guard)]),
    insertEvent(
      svc.d1,
      { type: "session.completed", objectId: id, dedupeKey: `session.completed:${id}`, at: now },
      guard,
    ),
  ]);
  if ((result?.meta.changes ?? 0) === 0) throw conflict("The session changed; reload it");
  announceEvents(svc);
  const to = await userEmail(svc, studentUserId);
  if (to) {
    enqueueAfterCommit(svc, [
      {
        type: "email.send",
        to,
        idempotencyKey: `session_completed:${id}:${studentUserId}`,
        ...templates.sessionCompleted(whenText(session.startTime), svc.config.SETTLEMENT_HOLD_HOURS),
      },
    ]);
  }
  const row = await primarySession(svc, id);
  if (!row) throw notFound("Session");
  return sessionView(row);
}
