/**
 * What happens to a lesson after its start: no-show reports, the student's dispute and the admin's
 * resolution (API.md "Sessions"). Money moves only through the one settling step (settle.ts): a
 * tutor no-show is a refunded cancellation, a resolution a split of the held credits. The two steps
 * that move no money (a student no-show, a dispute) are ONE conditional UPDATE each, which re-checks
 * the state and the time window in SQL and stamps a fresh `transitionId`; the notifications and the
 * audit row in the same batch are guarded by that id, so they exist exactly when this request's
 * change does. A repeat or a lost race finds the state moved on: 409 `conflict`, nothing written.
 */
import type { Auth, ServiceContext } from "../../context";
import type { NoShowParty } from "../../db/schema";
import { type Rendered, templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { badRequest, conflict, DomainError, forbidden, notFound } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { type AuditEntry, auditEntry, insertAudit } from "../audit/store";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertAdminNotifications, insertNotification } from "../notifications/store";
import { accessSession, type SessionRow, sessionView } from "./access";
import type { DisputeRequest, ResolveRequest } from "./schemas";
import { cancelThroughLedger, participants, primarySession, userEmail, whenText } from "./service";
import { settleThroughLedger } from "./settle";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

type Role = "student" | "tutor";

/** Holds exactly when the session carries this request's transition. */
const byTransition = (id: string, transitionId: string) => ({
  sql: "EXISTS (SELECT 1 FROM sessions WHERE id = ? AND transitionId = ?)",
  binds: [id, transitionId],
});

/** Notes to both participants, once per (type, session, user), written only with the transition. */
function participantNotes(
  svc: ServiceContext,
  session: SessionRow,
  people: { studentUserId: string; tutorUserId: string },
  type: string,
  data: Record<string, unknown>,
  transitionId: string,
  at: number,
) {
  return [people.studentUserId, people.tutorUserId].map((userId) =>
    insertNotification(
      svc.d1,
      {
        id: newId("ntf"),
        userId,
        type,
        data: { sessionId: session.id, ...data },
        dedupeKey: `${type}:${session.id}:${userId}`,
        createdAt: at,
      },
      byTransition(session.id, transitionId),
    ),
  );
}

/** One e-mail per participant with an open account, keyed like its in-app notice. */
async function mailBoth(
  svc: ServiceContext,
  sessionId: string,
  people: { studentUserId: string; tutorUserId: string },
  type: string,
  render: (role: Role) => Rendered,
) {
  const jobs: QueueMessage[] = [];
  for (const [userId, role] of [
    [people.studentUserId, "student"],
    [people.tutorUserId, "tutor"],
  ] as const) {
    const to = await userEmail(svc, userId);
    if (to) jobs.push({ type: "email.send", to, idempotencyKey: `${type}:${sessionId}:${userId}`, ...render(role) });
  }
  enqueueAfterCommit(svc, jobs);
}

/**
 * A no-show report. The student reports the tutor, the tutor reports the student, an admin (who is
 * not a participant) either; an admin who is the session's student or tutor reports as that
 * participant. Nobody reports themselves (403).
 */
export async function reportNoShow(svc: ServiceContext, auth: Auth, id: string, party: NoShowParty) {
  const { session, asStudent, asTutor } = await accessSession(svc, auth, id);
  const reporter = asStudent ? "student" : asTutor ? "tutor" : "admin";
  if (reporter === party) throw forbidden("You cannot report your own no-show");
  const allowed = party === "tutor" ? ["scheduled"] : ["scheduled", "in_progress"];
  if (!allowed.includes(session.status) || session.settlementStatus !== "open") {
    throw conflict(`A ${session.status} session cannot be reported as a ${party} no-show`);
  }
  const now = svc.clock.now();
  const opensAt = session.startTime + svc.config.NO_SHOW_GRACE_MINUTES * MINUTE_MS;
  // The not-held sweep cancels an unreported lesson at this instant; reports end where it begins.
  const closesAt = session.endTime + svc.config.REPORT_WINDOW_HOURS * HOUR_MS;
  if (now < opensAt || now >= closesAt) {
    throw new DomainError(
      "policy_window_closed",
      `A no-show can be reported from ${svc.config.NO_SHOW_GRACE_MINUTES} minutes after the start until ${svc.config.REPORT_WINDOW_HOURS} hours after the end`,
    );
  }
  const audit =
    reporter === "admin" ? auditEntry(svc, auth.userId, "session.no_show", session.id, { party }, now) : undefined;
  if (party === "tutor") {
    const cancelled = await cancelThroughLedger(svc, session, {
      by: "tutor",
      refund: true,
      reason: "tutor_no_show",
      noShow: "tutor",
      audit,
      // the window, against the row itself: a lesson moved meanwhile (or a stale read) is not reported
      where: {
        sql: "startTime <= ? AND endTime > ?",
        binds: [now - svc.config.NO_SHOW_GRACE_MINUTES * MINUTE_MS, now - svc.config.REPORT_WINDOW_HOURS * HOUR_MS],
      },
    });
    return sessionView(cancelled);
  }
  return sessionView(await studentNoShow(svc, session, now, audit));
}

/** The lesson counts as held (`completed`, still `open`): it settles after the hold unless disputed. */
async function studentNoShow(svc: ServiceContext, session: SessionRow, now: number, audit: AuditEntry | undefined) {
  const people = await participants(svc, session);
  const transitionId = newId("trn");
  // The window is re-checked against the row itself, so the state and the time are decided by the
  // one statement (a reschedule, possible only before the start, cannot slip in between).
  const update = svc.d1
    .prepare(
      `UPDATE sessions SET status = 'completed', noShow = 'student', transitionId = ?, updatedAt = ?
WHERE id = ? AND status IN ('scheduled', 'in_progress') AND settlementStatus = 'open' AND startTime <= ? AND endTime > ?`,
    )
    .bind(
      transitionId,
      now,
      session.id,
      now - svc.config.NO_SHOW_GRACE_MINUTES * MINUTE_MS,
      now - svc.config.REPORT_WINDOW_HOURS * HOUR_MS,
    );
  const [result] = await svc.d1.batch([
    update,
    ...participantNotes(
      svc,
      session,
      people,
      "session_no_show",
      { party: "student", refunded: false },
      transitionId,
      now,
    ),
    ...(audit ? [insertAudit(svc.d1, audit, byTransition(session.id, transitionId))] : []),
    insertEvent(
      svc.d1,
      { type: "session.no_show", objectId: session.id, dedupeKey: `session.no_show:${session.id}`, at: now },
      byTransition(session.id, transitionId),
    ),
  ]);
  if ((result?.meta.changes ?? 0) === 0) throw conflict("The session changed; reload it");
  announceEvents(svc);
  await mailBoth(svc, session.id, people, "session_no_show", (role) =>
    templates.sessionNoShow(whenText(session.startTime), "student", role, false),
  );
  const updated = await primarySession(svc, session.id);
  if (!updated) throw notFound("Session");
  return updated;
}

/** The student contests a completed lesson before it settles; its credits stay held for an admin. */
export async function disputeSession(svc: ServiceContext, auth: Auth, id: string, input: DisputeRequest) {
  const { session, asStudent } = await accessSession(svc, auth, id);
  if (!asStudent) throw forbidden("Only the session's student can dispute it");
  // A lesson already settled is past the window (API.md: "a dispute after settlement"); any other
  // state (not held, already disputed) is a conflict.
  if (
    session.status === "completed" &&
    (session.settlementStatus === "settled" || session.settlementStatus === "refunded")
  ) {
    throw new DomainError("policy_window_closed", "The session is already settled");
  }
  if (session.status !== "completed" || session.settlementStatus !== "open") {
    throw conflict(`A ${session.status} session (${session.settlementStatus}) cannot be disputed`);
  }
  const now = svc.clock.now();
  const holdMs = svc.config.SETTLEMENT_HOLD_HOURS * HOUR_MS;
  // The settlement sweep takes an undisputed lesson at endTime + hold: disputes end there.
  if (now >= session.endTime + holdMs) {
    throw new DomainError(
      "policy_window_closed",
      `A session can be disputed until ${svc.config.SETTLEMENT_HOLD_HOURS} hours after its end`,
    );
  }
  const people = await participants(svc, session);
  const transitionId = newId("trn");
  const update = svc.d1
    .prepare(
      `UPDATE sessions SET settlementStatus = 'disputed', disputedAt = ?, disputeReason = ?, transitionId = ?, updatedAt = ?
WHERE id = ? AND status = 'completed' AND settlementStatus = 'open' AND endTime > ?`,
    )
    .bind(now, input.reason, transitionId, now, session.id, now - holdMs);
  const [result] = await svc.d1.batch([
    update,
    insertAdminNotifications(
      svc.d1,
      {
        type: "session_disputed",
        data: { sessionId: session.id },
        dedupeKey: `session_disputed:${session.id}`,
        at: now,
      },
      byTransition(session.id, transitionId),
    ),
    ...participantNotes(svc, session, people, "session_disputed", {}, transitionId, now),
    insertEvent(
      svc.d1,
      { type: "session.disputed", objectId: session.id, dedupeKey: `session.disputed:${session.id}`, at: now },
      byTransition(session.id, transitionId),
    ),
  ]);
  if ((result?.meta.changes ?? 0) === 0) throw conflict("The session changed; reload it");
  announceEvents(svc);
  await mailBoth(svc, session.id, people, "session_disputed", (role) =>
    templates.sessionDisputed(whenText(session.startTime), role),
  );
  const updated = await primarySession(svc, session.id);
  if (!updated) throw notFound("Session");
  return sessionView(updated);
}

/**
 * An admin splits a disputed (or still open) completed lesson: `refundCredits` back to the student,
 * the rest earned by the tutor, in one settling step with its audit row and both notices.
 */
export async function resolveSession(svc: ServiceContext, adminId: string, id: string, input: ResolveRequest) {
  const session = await svc.db.query.sessions.findFirst({ where: (s, { eq }) => eq(s.id, id) });
  if (!session) throw notFound("Session");
  if (session.status !== "completed" || !["disputed", "open"].includes(session.settlementStatus)) {
    throw conflict(`A ${session.status} session (${session.settlementStatus}) cannot be resolved`);
  }
  // Against this session's cost: a value the request could never have meant is input, not state.
  if (input.refundCredits > session.creditsCost) {
    throw badRequest(`refundCredits must be at most the session's ${session.creditsCost} credits`, [
      { path: "refundCredits", message: `At most ${session.creditsCost}` },
    ]);
  }
  const settled = await settleThroughLedger(svc, session, {
    from: { status: ["completed"], settlement: ["disputed", "open"] },
    refund: input.refundCredits,
    notify: {
      type: "session_resolved",
      data: { refundedCredits: input.refundCredits, creditsCost: session.creditsCost },
    },
    audit: auditEntry(svc, adminId, "session.resolve", session.id, {
      note: input.note,
      refundCredits: input.refundCredits,
    }),
  });
  await mailBoth(svc, session.id, settled, "session_resolved", () =>
    templates.sessionResolved(whenText(session.startTime), settled.result.refundedCredits, session.creditsCost),
  );
  return sessionView(settled.session);
}
