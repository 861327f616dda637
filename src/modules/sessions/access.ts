/**
 * Who may see or act on a session. Everything is scoped by the caller: a session that is not yours
 * is 404 (its existence never leaks); a participant without the right role for an action is 403.
 */
import { eq } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { sessions } from "../../db/schema";
import { notFound } from "../../lib/errors";

export type SessionRow = typeof sessions.$inferSelect;

export interface SessionAccess {
  session: SessionRow;
  asStudent: boolean;
  asTutor: boolean;
  /** An admin token whose user is still an admin in the database. */
  asAdmin: boolean;
}

export function isAdmin(auth: Auth): boolean {
  return auth.role === "admin" && auth.user.context === "admin";
}

/** Loads a session the caller participates in (or any session for an admin); 404 otherwise. */
export async function accessSession(svc: ServiceContext, auth: Auth, id: string): Promise<SessionAccess> {
  const session = await svc.db.query.sessions.findFirst({ where: eq(sessions.id, id) });
  if (!session) throw notFound("Session");
  const asStudent = auth.user.studentProfileId !== null && session.studentProfileId === auth.user.studentProfileId;
  const asTutor = auth.user.tutorProfileId !== null && session.tutorProfileId === auth.user.tutorProfileId;
  const asAdmin = isAdmin(auth);
  if (!asStudent && !asTutor && !asAdmin) throw notFound("Session");
  return { session, asStudent, asTutor, asAdmin };
}

/** The public view: passphrases never leave the server except through `/join`. */
export function sessionView(s: SessionRow) {
  return {
    id: s.id,
    tutorProfileId: s.tutorProfileId,
    studentProfileId: s.studentProfileId,
    subjectId: s.subjectId,
    startTime: s.startTime,
    endTime: s.endTime,
    status: s.status,
    creditsCost: s.creditsCost,
    agoraChannelName: s.agoraChannelName,
    videoSessionUrl: s.videoSessionUrl,
    cancelledAt: s.cancelledAt,
    cancelledBy: s.cancelledBy,
    cancellationReason: s.cancellationReason,
    refunded: s.refunded,
    rescheduledAt: s.rescheduledAt,
    seriesId: s.seriesId,
    noShow: s.noShow,
    settlementStatus: s.settlementStatus,
    refundedCredits: s.refundedCredits,
    earnedCredits: s.earnedCredits,
    tutorEarningsCents: s.tutorEarningsCents,
    settledAt: s.settledAt,
    disputedAt: s.disputedAt,
    disputeReason: s.disputeReason,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
