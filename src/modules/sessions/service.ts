/**
 * Bookings and cancellation. Both write through the student's CreditLedger
 * (one transaction each: session + ledger entry + notifications); start and complete live in
 * progress.ts, no-shows and disputes in lifecycle.ts, the cron sweeps in sweeps.ts.
 */
import { and, asc, desc, eq, gte, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { type Db, openPrimary, toStatement } from "../../db/client";
import { keysetAfter } from "../../db/keyset";
import { type CancelledBy, type NoShowParty, sessions, tutorProfiles, tutorSubjects, users } from "../../db/schema";
import { templates } from "../../email/templates";
import type { SlotClaim } from "../../ledger/booking-sql";
import { decodeCursor, page } from "../../lib/cursor";
import { badRequest, conflict, DomainError, forbidden, notFound } from "../../lib/errors";
import { agoraConfigured } from "../../providers/agora";
import { enqueueAfterCommit } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { type AuditEntry, auditEntry } from "../audit/store";
import { localDayBounds, refusal, type TutorCalendar } from "../tutors/booking-rules";
import { PUBLIC_TUTOR_STATUS, publicTutorRow } from "../tutors/service";
import { loadTutorCalendar } from "../tutors/tutor-calendar";
import { accessSession, type SessionRow, sessionView } from "./access";
import type { ListQuery } from "./schemas";
import { settleThroughLedger } from "./settle";

const HOUR_MS = 60 * 60 * 1000;

export const whenText = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 16);

/** The address of an open account (a closed one keeps only a pseudonym, which is never mailed). */
export async function userEmail(svc: ServiceContext, userId: string) {
  const user = await svc.db.query.users.findFirst({
    where: and(eq(users.id, userId), isNull(users.deletedAt)),
    columns: { email: true },
  });
  return user?.email;
}

/**
 * The booking rules' verdict on `[startTime, endTime)` with this tutor (booking-rules.ts `refusal`,
 * the same decision the slots listing makes), as the claim the writing statement re-checks in SQL
 * (buffers, time off, daily cap, the student's overlap: ledger/booking-sql.ts). Booking and
 * rescheduling both call this; 409 `slot_unavailable` with the rule's reason otherwise.
 */
export async function claimSlot(
  svc: ServiceContext,
  tutorProfileId: string,
  studentProfileId: string,
  startTime: number,
  endTime: number,
  movingSessionId?: string,
): Promise<SlotClaim> {
  const { calendar } = await loadTutorCalendar(svc, tutorProfileId, startTime, endTime, { movingSessionId });
  const refused = refusal(calendar, startTime, endTime);
  if (refused) throw new DomainError("slot_unavailable", refused.message);
  return claimOf(calendar, tutorProfileId, studentProfileId, startTime, endTime, movingSessionId);
}

/** The SQL claim of an interval the calendar accepted (`refusal` accepts only with a zone). */
export function claimOf(
  calendar: TutorCalendar,
  tutorProfileId: string,
  studentProfileId: string,
  startTime: number,
  endTime: number,
  movingSessionId?: string,
): SlotClaim {
  const timezone = calendar.input.timezone;
  const [dayStart, dayEnd] = localDayBounds(timezone ?? "UTC", startTime);
  return { tutorProfileId, studentProfileId, startTime, endTime, timezone, dayStart, dayEnd, movingSessionId };
}

/** Reads a row the CreditLedger just wrote: on the primary, whatever replica the request uses. */
export const primarySession = (svc: ServiceContext, id: string) =>
  openPrimary(svc.env.DB).db.query.sessions.findFirst({ where: eq(sessions.id, id) });

/**
 * The tutor a student may book for a subject: approved (404 otherwise), not themselves, teaching it.
 */
export async function bookableTutor(svc: ServiceContext, auth: Auth, tutorProfileId: string, subjectId: string) {
  const tutor = await publicTutorRow(svc, tutorProfileId);
  if (tutor.userId === auth.userId)
    throw badRequest("You cannot book yourself", [{ path: "tutorProfileId", message: "Your own profile" }]);
  const teaches = await svc.db.query.tutorSubjects.findFirst({
    where: and(eq(tutorSubjects.tutorProfileId, tutor.id), eq(tutorSubjects.subjectId, subjectId)),
  });
  if (!teaches) {
    throw badRequest("The tutor does not teach this subject", [
      { path: "subjectId", message: "Not taught by this tutor" },
    ]);
  }
  return tutor;
}

export const creditsCostOf = (hourlyCreditsPrice: number, durationMinutes: number) =>
  Math.ceil((hourlyCreditsPrice * durationMinutes) / 60);

export function studentProfileOf(auth: Auth): string {
  const studentProfileId = auth.user.studentProfileId;
  if (!studentProfileId) throw forbidden("This account has no student profile");
  return studentProfileId;
}

/**
 * The checks above ran before the ledger committed: a student who closed their account, or a tutor
 * who stopped being approved, in between would keep a live booking (closing the account re-checks
 * its sessions only once, after its own commit). Read after this booking's commit, the state is
 * final for it: the booking is undone with a full refund and refused as the checks would have.
 */
export async function refuseIfNoLongerBookable(svc: ServiceContext, booked: SessionRow[], studentUserId: string) {
  const first = booked[0];
  if (!first) return;
  const state = await openPrimary(svc.env.DB)
    .d1.prepare(
      "SELECT (SELECT deletedAt FROM users WHERE id = ?) AS closedAt, (SELECT status FROM tutorProfiles WHERE id = ?) AS tutorStatus",
    )
    .bind(studentUserId, first.tutorProfileId)
    .first<{ closedAt: number | null; tutorStatus: string | null }>();
  await refuseIfNotLive(svc, booked, studentUserId, state ?? { closedAt: null, tutorStatus: null });
}

/** The same check on a state read by the caller (booking reads it in its own batch). */
export async function refuseIfNotLive(
  svc: ServiceContext,
  booked: SessionRow[],
  studentUserId: string,
  state: { closedAt: number | null; tutorStatus: string | null },
) {
  const closed = state.closedAt !== null;
  if (!closed && state.tutorStatus === PUBLIC_TUTOR_STATUS) return;
  for (const session of booked) {
    try {
      await cancelThroughLedger(svc, session, {
        by: "admin",
        refund: true,
        reason: closed ? "account_closed" : "tutor_unavailable",
        quietFor: closed ? studentUserId : undefined,
      });
    } catch (err) {
      // the closing account's own sweep cancelled it first
      if (!(err instanceof DomainError && err.code === "conflict")) throw err;
    }
  }
  if (closed) throw new DomainError("unauthorized", "Invalid or expired access token");
  throw notFound("Tutor");
}

/**
 * The approved tutor a booking or a move is for, with the address of their open account (null once
 * it is closed): one row, for the caller to batch with the rest of what it decides on.
 */
export function bookableTutorQuery(db: Db, tutorProfileId: string) {
  return db
    .select({
      id: tutorProfiles.id,
      userId: tutorProfiles.userId,
      displayName: tutorProfiles.displayName,
      hourlyCreditsPrice: tutorProfiles.hourlyCreditsPrice,
      email: users.email,
    })
    .from(tutorProfiles)
    .leftJoin(users, and(eq(users.id, tutorProfiles.userId), isNull(users.deletedAt)))
    .where(and(eq(tutorProfiles.id, tutorProfileId), eq(tutorProfiles.status, PUBLIC_TUTOR_STATUS)))
    .limit(1);
}

export async function getSession(svc: ServiceContext, auth: Auth, id: string) {
  return sessionView((await accessSession(svc, auth, id)).session);
}

/**
 * The session's two users and their open-account addresses (null once an account is closed), in ONE
 * statement of primary-key lookups.
 */
export async function participants(
  svc: ServiceContext,
  s: Pick<SessionRow, "id" | "studentProfileId" | "tutorProfileId">,
) {
  const row = await svc.d1
    .prepare(
      `SELECT sp.userId AS studentUserId, su.email AS studentEmail, tp.userId AS tutorUserId, tu.email AS tutorEmail
FROM studentProfiles AS sp JOIN tutorProfiles AS tp ON tp.id = ?
LEFT JOIN users AS su ON su.id = sp.userId AND su.deletedAt IS NULL
LEFT JOIN users AS tu ON tu.id = tp.userId AND tu.deletedAt IS NULL
WHERE sp.id = ?`,
    )
    .bind(s.tutorProfileId, s.studentProfileId)
    .first<{ studentUserId: string; studentEmail: string | null; tutorUserId: string; tutorEmail: string | null }>();
  if (!row) throw new Error(`session ${s.id} has a missing profile`);
  return row;
}

export async function cancelSession(svc: ServiceContext, auth: Auth, id: string, reason: string | undefined) {
  return sessionView(await cancelAccessed(svc, auth, await accessSession(svc, auth, id), reason));
}

/**
 * Cancels a session the caller may see, under the single-session policy. `silent`: no e-mails (a
 * series' cancellation sends one summary instead).
 */
export async function cancelAccessed(
  svc: ServiceContext,
  auth: Auth,
  { session, asStudent, asAdmin }: Awaited<ReturnType<typeof accessSession>>,
  reason: string | undefined,
  opts: { silent?: boolean } = {},
): Promise<SessionRow> {
  if (session.status !== "scheduled") throw conflict(`A ${session.status} session cannot be cancelled`);
  // Participants cancel only before the start (afterwards a no-show report is the way); admins at
  // any time, except an admin who is also the session's student.
  if ((asStudent || !asAdmin) && svc.clock.now() >= session.startTime) {
    throw new DomainError("policy_window_closed", "A session can be cancelled only before its start");
  }
  // An admin who is the session's student cancels as the student (the refund window applies).
  const by = asStudent ? "student" : asAdmin ? "admin" : "tutor";
  const windowMs = svc.config.CANCELLATION_WINDOW_HOURS * HOUR_MS;
  const refund = by !== "student" || session.startTime - svc.clock.now() >= windowMs;
  const audit =
    by === "admin" ? auditEntry(svc, auth.userId, "session.cancel", session.id, { reason: reason ?? null }) : undefined;
  // The refund and the before-start rule were decided on this start time: a lesson moved meanwhile
  // (or a stale read) makes the cancellation a 409 instead of a refund decided on the wrong time.
  const where = { sql: "startTime = ?", binds: [session.startTime] };
  return cancelThroughLedger(svc, session, { by, refund, reason: reason ?? null, audit, where, silent: opts.silent });
}

/**
 * The one cancellation: a settling step through the student's CreditLedger (status, the refund or
 * the tutor's late-cancellation earning, and both in-app notifications in one transaction, so a
 * retry never moves money twice), then the participants' e-mails. A session no longer `scheduled`
 * is 409 `conflict`. `quietFor` is a participant who gets no e-mail (an account being closed).
 */
export async function cancelThroughLedger(
  svc: ServiceContext,
  session: SessionRow,
  opts: {
    by: CancelledBy;
    refund: boolean;
    reason: string | null;
    noShow?: NoShowParty;
    quietFor?: string;
    audit?: AuditEntry;
    /** The condition on the session's columns the decision was made on (settle step's `from.where`). */
    where?: { sql: string; binds: unknown[] };
    /** No e-mails (the caller sends a summary). */
    silent?: boolean;
  },
): Promise<SessionRow> {
  const settled = await settleThroughLedger(svc, session, {
    from: { status: ["scheduled"], settlement: ["open"], where: opts.where },
    set: { status: "cancelled", cancelledBy: opts.by, cancellationReason: opts.reason, noShow: opts.noShow },
    refund: opts.refund ? "all" : 0,
    notify: opts.noShow
      ? { type: "session_no_show", data: { party: opts.noShow, refunded: opts.refund } }
      : { type: "session_cancelled", data: { cancelledBy: opts.by, refunded: opts.refund } },
    audit: opts.audit,
  });
  const jobs: QueueMessage[] = [];
  for (const userId of opts.silent ? [] : [settled.studentUserId, settled.tutorUserId]) {
    const address = userId === settled.studentUserId ? settled.studentEmail : settled.tutorEmail;
    const to = userId === opts.quietFor ? undefined : address;
    if (!to) continue;
    const role = userId === settled.studentUserId ? "student" : "tutor";
    jobs.push({
      type: "email.send",
      to,
      idempotencyKey: `${opts.noShow ? "session_no_show" : "session_cancelled"}:${session.id}:${userId}`,
      ...(opts.noShow
        ? templates.sessionNoShow(whenText(session.startTime), opts.noShow, role, settled.result.refundedCredits > 0)
        : templates.sessionCancelled(whenText(session.startTime), settled.result.refundedCredits > 0)),
    });
  }
  enqueueAfterCommit(svc, jobs);
  return settled.session;
}

export async function joinSession(svc: ServiceContext, auth: Auth, id: string) {
  const { session, asStudent, asTutor } = await accessSession(svc, auth, id);
  if (!asStudent && !asTutor) throw forbidden("Only participants can join a session");
  if (session.status === "cancelled" || session.status === "completed")
    throw conflict(`The session is ${session.status}`);
  const pass = asTutor ? session.agoraHostPassPhrase : session.agoraViewerPassPhrase;
  if (!pass) {
    if (!agoraConfigured(svc.config)) {
      throw new DomainError("provider_unavailable", "Video rooms are not configured");
    }
    throw new DomainError("room_not_ready", "The video room is being created; try again shortly", undefined, 5);
  }
  return {
    url: `${svc.config.SESSIONS_APP_URL.replace(/\/+$/, "")}/${pass}`,
    role: asTutor ? ("host" as const) : ("viewer" as const),
  };
}

type Filters = { status?: SessionRow["status"]; from?: number; to?: number; limit: number; cursor?: string };

/** One keyset page on (profile or status, startTime, id); ascending when `from` is given. */
export function sessionsPageQuery(svc: ServiceContext, scope: SQL | undefined, q: Filters) {
  const ascending = q.from !== undefined;
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const keyset = keysetAfter(sessions.startTime, sessions.id, after, ascending ? "asc" : "desc");
  return svc.db
    .select()
    .from(sessions)
    .where(
      and(
        scope,
        q.status ? eq(sessions.status, q.status) : undefined,
        q.from !== undefined ? gte(sessions.startTime, q.from) : undefined,
        q.to !== undefined ? lt(sessions.startTime, q.to) : undefined,
        keyset,
      ),
    )
    .orderBy(
      ...(ascending ? [asc(sessions.startTime), asc(sessions.id)] : [desc(sessions.startTime), desc(sessions.id)]),
    )
    .limit(q.limit + 1);
}

/** Raw rows of a batched page (SQLite booleans are 0/1) → the page. */
export type RawSession = Omit<SessionRow, "refunded"> & { refunded: number | boolean };
export const sessionsPage = (rows: RawSession[], limit: number) =>
  page(
    rows.map((r) => ({ ...r, refunded: Boolean(r.refunded) })),
    limit,
    sessionView,
    (s) => [s.startTime, s.id],
  );

/**
 * The caller's sessions as student or tutor (default from the token's role). The profile id is read
 * by a subquery on the caller's user row, so the page is one statement that `withCaller` batches
 * with the user check: one D1 round trip for the whole request.
 */
export function mySessionsStatement(svc: ServiceContext, claims: { sub: string; role: string }, q: ListQuery) {
  const as = q.as ?? (claims.role === "tutor" ? "tutor" : "student");
  const column = as === "tutor" ? sessions.tutorProfileId : sessions.studentProfileId;
  const profile =
    as === "tutor"
      ? sql`(SELECT ${users.tutorProfileId} FROM ${users} WHERE ${users.id} = ${claims.sub})`
      : sql`(SELECT ${users.studentProfileId} FROM ${users} WHERE ${users.id} = ${claims.sub})`;
  return toStatement(svc.d1, sessionsPageQuery(svc, eq(column, profile), q));
}
