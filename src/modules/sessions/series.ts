/**
 * Weekly series: `count` lessons at the same wall-clock time in the tutor's zone (17:00 local stays
 * 17:00 across DST), booked all or nothing in ONE step of the student's CreditLedger
 * (ledger/booking-money.ts `bookSeriesStep`: N sessions, N debits, one notification each side).
 * Every occurrence is decided by the same rules as a single booking (booking-rules.ts `refusal`),
 * and a 409 names every occurrence that is not free. Afterwards each occurrence is an ordinary
 * session; cancelling the series cancels its future scheduled ones, each under the single-session
 * policy, with one summary e-mail per participant.
 */
import { and, asc, eq, gt, lt, ne } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { openPrimary } from "../../db/client";
import { sessions } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor, unwrap } from "../../ledger/client";
import { newId, sha256Hex } from "../../lib/crypto";
import { conflict, DomainError, type FieldProblem, notFound } from "../../lib/errors";
import { enqueueAfterCommit } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import {
  DAY_MS,
  type Interval,
  MINUTE_MS,
  SESSION_MAX_SPAN_MS,
  SLOT_STEP_MS,
  weeklyStarts,
} from "../tutors/availability";
import { refusal } from "../tutors/booking-rules";
import { loadTutorCalendar } from "../tutors/tutor-calendar";
import { accessSession, type SessionRow, sessionView } from "./access";
import type { SeriesRequest } from "./schemas";
import {
  bookableTutor,
  cancelAccessed,
  claimOf,
  creditsCostOf,
  participants,
  refuseIfNoLongerBookable,
  studentProfileOf,
  userEmail,
  whenText,
} from "./service";

/** Same idea as a single booking's id: under an Idempotency-Key the series id is derived from it. */
async function seriesIdOf(userId: string, input: SeriesRequest, idempotencyKey?: string) {
  if (!idempotencyKey) return newId("ser");
  return `ser_${(await sha256Hex(`series\n${userId}\n${idempotencyKey}\n${JSON.stringify(input)}`)).slice(0, 32)}`;
}

const occurrenceId = (seriesId: string, index: number) => `ses_${seriesId.slice(4)}_${index + 1}`;

interface Planned {
  starts: number[];
  problems: FieldProblem[];
  claims: ReturnType<typeof claimOf>[];
}

/** Every occurrence's time and verdict, from one calendar read and one read of the student's sessions. */
async function plan(
  svc: ServiceContext,
  tutorProfileId: string,
  studentProfileId: string,
  input: SeriesRequest,
): Promise<Planned> {
  const durationMs = input.durationMinutes * MINUTE_MS;
  // the last occurrence is (count − 1) weeks later, give or take a DST hour
  const to = input.startTime + (input.count - 1) * 7 * DAY_MS + durationMs + DAY_MS;
  const [{ calendar }, theirs] = await Promise.all([
    loadTutorCalendar(svc, tutorProfileId, input.startTime, to),
    studentSessions(svc, studentProfileId, input.startTime, to),
  ]);
  const zone = calendar.input.timezone;
  const starts = zone ? weeklyStarts(zone, input.startTime, input.count) : [input.startTime];
  const problems: FieldProblem[] = [];
  const claims: ReturnType<typeof claimOf>[] = [];
  starts.forEach((start, i) => {
    const end = start + durationMs;
    const path = `occurrences[${i}]`;
    const at = `${whenText(start)} UTC`;
    const refused =
      start % SLOT_STEP_MS !== 0
        ? { message: "That local time does not fall on a 15-minute boundary in UTC" }
        : refusal(calendar, start, end);
    if (refused) problems.push({ path, message: `${at}: ${refused.message}` });
    else if (theirs.some(([s, e]) => s < end && e > start)) {
      problems.push({ path, message: `${at}: You already have a session at that time` });
    } else claims.push(claimOf(calendar, tutorProfileId, studentProfileId, start, end));
  });
  return { starts, problems, claims };
}

async function studentSessions(svc: ServiceContext, studentProfileId: string, from: number, to: number) {
  const rows = await svc.db
    .select({ startTime: sessions.startTime, endTime: sessions.endTime })
    .from(sessions)
    .where(
      and(
        eq(sessions.studentProfileId, studentProfileId),
        gt(sessions.startTime, from - SESSION_MAX_SPAN_MS),
        lt(sessions.startTime, to),
        ne(sessions.status, "cancelled"),
      ),
    );
  return rows.map((r): Interval => [r.startTime, r.endTime]);
}

const unavailable = (problems: FieldProblem[]) =>
  new DomainError(
    "slot_unavailable",
    `${problems.length} occurrence${problems.length === 1 ? " is" : "s are"} not available; nothing was booked`,
    problems,
  );

/** Sessions of a series in time order, from the primary (the ledger just wrote them). */
async function seriesSessions(svc: ServiceContext, seriesId: string, primary = false): Promise<SessionRow[]> {
  const db = primary ? openPrimary(svc.env.DB).db : svc.db;
  return db.select().from(sessions).where(eq(sessions.seriesId, seriesId)).orderBy(asc(sessions.startTime));
}

export async function bookSeries(svc: ServiceContext, auth: Auth, input: SeriesRequest, idempotencyKey?: string) {
  const studentProfileId = studentProfileOf(auth);
  const tutor = await bookableTutor(svc, auth, input.tutorProfileId, input.subjectId);
  const seriesId = await seriesIdOf(auth.userId, input, idempotencyKey);
  // A replay (the first response was lost): the series is booked already, whatever the rules say now;
  // its rooms and mails are asked for again (each is idempotent) in case the first attempt died first.
  const earlier = await seriesSessions(svc, seriesId, true);
  const rows = earlier.length > 0 ? earlier : await bookNew(svc, auth, tutor, studentProfileId, seriesId, input);

  const jobs: QueueMessage[] = rows.map((s) => ({ type: "video.create_room", sessionId: s.id }));
  const whens = rows.map((s) => whenText(s.startTime));
  jobs.push({
    type: "email.send",
    to: auth.user.email,
    idempotencyKey: `series_scheduled:${seriesId}:${auth.userId}`,
    ...templates.seriesScheduled(whens, tutor.displayName, "tutor"),
  });
  const tutorEmail = await userEmail(svc, tutor.userId);
  if (tutorEmail) {
    jobs.push({
      type: "email.send",
      to: tutorEmail,
      idempotencyKey: `series_scheduled:${seriesId}:${tutor.userId}`,
      ...templates.seriesScheduled(whens, auth.user.name, "student"),
    });
  }
  enqueueAfterCommit(svc, jobs);
  return { seriesId, sessions: rows.map(sessionView) };
}

/** Plans every occurrence, then books them all in one CreditLedger step (or throws 409 / 402). */
async function bookNew(
  svc: ServiceContext,
  auth: Auth,
  tutor: Awaited<ReturnType<typeof bookableTutor>>,
  studentProfileId: string,
  seriesId: string,
  input: SeriesRequest,
): Promise<SessionRow[]> {
  const planned = await plan(svc, tutor.id, studentProfileId, input);
  if (planned.problems.length > 0) throw unavailable(planned.problems);
  const creditsCost = creditsCostOf(tutor.hourlyCreditsPrice, input.durationMinutes);
  const result = await ledgerFor(svc.env, auth.userId).bookSeries({
    userId: auth.userId,
    seriesId,
    tutorUserId: tutor.userId,
    subjectId: input.subjectId,
    durationMinutes: input.durationMinutes,
    timezone: planned.claims[0]?.timezone ?? "UTC",
    occurrences: planned.claims.map((claim, i) => ({
      sessionId: occurrenceId(seriesId, i),
      claim,
      creditsCost,
      description: `Session with ${tutor.displayName} (${input.durationMinutes} min, ${i + 1} of ${input.count})`,
    })),
    at: svc.clock.now(),
  });
  if (!result.ok && result.code === "slot_unavailable") {
    // Something took a slot between the check and the write: name what is taken now.
    const again = await plan(svc, tutor.id, studentProfileId, input);
    throw again.problems.length > 0 ? unavailable(again.problems) : new DomainError("slot_unavailable", result.detail);
  }
  const { replayed } = unwrap(result);
  const rows = await seriesSessions(svc, seriesId, true);
  if (!replayed) await refuseIfNoLongerBookable(svc, rows, auth.userId);
  return rows;
}

/**
 * Cancels every still-scheduled future occurrence (participants and admins; 404 for anyone else),
 * each as `POST /v1/sessions/:id/cancel` would, then one summary e-mail per participant. Nothing
 * left to cancel: 409 `conflict` (idempotent by state).
 */
export async function cancelSeries(svc: ServiceContext, auth: Auth, seriesId: string, reason: string | undefined) {
  const rows = await seriesSessions(svc, seriesId);
  const first = rows[0];
  if (!first) throw notFound("Series");
  // the caller's relation to the series is the same for every occurrence: checked once (a stranger
  // gets the same 404 as for an unknown series)
  const access = await accessSession(svc, auth, first.id).catch((err) => {
    throw err instanceof DomainError && err.code === "not_found" ? notFound("Series") : err;
  });
  const now = svc.clock.now();
  const due = rows.filter((s) => s.status === "scheduled" && s.startTime > now);
  if (due.length === 0) throw conflict("No occurrence of this series is still to come");
  const cancelled: SessionRow[] = [];
  try {
    for (const session of due) {
      try {
        cancelled.push(await cancelAccessed(svc, auth, { ...access, session }, reason, { silent: true }));
      } catch (err) {
        // moved, started or cancelled meanwhile: the others still go
        if (!(err instanceof DomainError && (err.code === "conflict" || err.code === "policy_window_closed")))
          throw err;
      }
    }
  } finally {
    // what was cancelled is told even if a later one failed (a retry cancels and tells the rest)
    await tellCancelled(svc, first, seriesId, cancelled, now);
  }
  return { sessions: (await seriesSessions(svc, seriesId, true)).map(sessionView) };
}

/** One summary e-mail per participant of the lessons a series cancellation cancelled. */
async function tellCancelled(
  svc: ServiceContext,
  first: SessionRow,
  seriesId: string,
  cancelled: SessionRow[],
  now: number,
) {
  if (cancelled.length === 0) return;
  const { studentUserId, tutorUserId } = await participants(svc, first);
  const whens = cancelled.map((s) => whenText(s.startTime));
  const refunded = cancelled.filter((s) => s.refundedCredits > 0).length;
  const jobs: QueueMessage[] = [];
  for (const userId of [studentUserId, tutorUserId]) {
    const to = await userEmail(svc, userId);
    if (to) {
      jobs.push({
        type: "email.send",
        to,
        idempotencyKey: `series_cancelled:${seriesId}:${now}:${userId}`,
        ...templates.seriesCancelled(whens, refunded),
      });
    }
  }
  enqueueAfterCommit(svc, jobs);
}
