/**
 * Reviews: the student of a completed lesson (without a tutor no-show) rates it once, within
 * REVIEW_WINDOW_MS of its end. The review row, the tutor's `ratingSum`/`ratingCount`, the
 * directory's listing rows and the tutor's notification are one D1 batch (one transaction), and
 * every statement after the insert is conditional on the review row it wrote: two reviews racing
 * for different sessions both count (each adds to the sums in SQL), two for the same session meet
 * the unique index on `sessionId` and the loser's whole batch rolls back (409).
 */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Auth, ServiceContext } from "../../context";
import { openPrimary, toStatement } from "../../db/client";
import { reviews, studentProfiles } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { conflict, DomainError, forbidden } from "../../lib/errors";
import { announceEvents } from "../integrations/nudge";
import { insertEvent } from "../integrations/outbox";
import { insertNotification } from "../notifications/store";
import { accessSession } from "../sessions/access";
import { relistStatements } from "../tutors/listing";
import { publicTutorRow } from "../tutors/service";
import { CLOSED_DISPLAY_NAME } from "../users/close-account";

/** How long after a lesson's end its student may still review it. */
export const REVIEW_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

export type ReviewRow = typeof reviews.$inferSelect;

export function reviewView(r: ReviewRow) {
  return {
    id: r.id,
    sessionId: r.sessionId,
    tutorProfileId: r.tutorProfileId,
    rating: r.rating,
    comment: r.comment,
    createdAt: r.createdAt,
  };
}

/** What the public sees of a reviewer: the first name only (a closed account's placeholder whole). */
export function firstName(displayName: string): string {
  if (displayName === CLOSED_DISPLAY_NAME) return displayName;
  return displayName.trim().split(/\s+/u)[0] ?? "";
}

export async function reviewSession(
  svc: ServiceContext,
  auth: Auth,
  sessionId: string,
  input: { rating: number; comment?: string },
): Promise<ReviewRow> {
  const { session, asStudent } = await accessSession(svc, auth, sessionId);
  if (!asStudent) throw forbidden("Only the session's student can review it");
  if (session.status !== "completed" || session.noShow === "tutor") {
    throw conflict("Only a completed lesson (without a tutor no-show) can be reviewed");
  }
  const now = svc.clock.now();
  if (now > session.endTime + REVIEW_WINDOW_MS) {
    throw new DomainError("policy_window_closed", "Lessons can be reviewed until 30 days after their end");
  }
  const existing = await svc.db.query.reviews.findFirst({ where: eq(reviews.sessionId, session.id) });
  if (existing) throw conflict("This lesson has already been reviewed");

  const row: ReviewRow = {
    id: newId("rev"),
    sessionId: session.id,
    tutorProfileId: session.tutorProfileId,
    studentProfileId: session.studentProfileId,
    rating: input.rating,
    comment: input.comment ?? null,
    createdAt: now,
  };
  const written = { sql: "EXISTS (SELECT 1 FROM reviews WHERE id = ?)", binds: [row.id] };
  const tutorUser = await svc.db.query.tutorProfiles.findFirst({
    where: (t, { eq }) => eq(t.id, session.tutorProfileId),
    columns: { userId: true },
  });
  try {
    await svc.d1.batch([
      // the session's state is checked again inside the transaction: a lesson that changed since
      // it was read (a late tutor no-show) writes no review, and nothing below runs
      svc.d1
        .prepare(
          `INSERT INTO reviews (id, sessionId, tutorProfileId, studentProfileId, rating, comment, createdAt)
           SELECT ?1, s.id, s.tutorProfileId, s.studentProfileId, ?2, ?3, ?4 FROM sessions s
           WHERE s.id = ?5 AND s.studentProfileId = ?6 AND s.status = 'completed'
             AND (s.noShow IS NULL OR s.noShow != 'tutor')`,
        )
        .bind(row.id, row.rating, row.comment, now, session.id, session.studentProfileId),
      svc.d1
        .prepare(
          `UPDATE tutorProfiles SET ratingSum = ratingSum + ?, ratingCount = ratingCount + 1
           WHERE id = ? AND ${written.sql}`,
        )
        .bind(row.rating, row.tutorProfileId, ...written.binds),
      ...relistStatements(svc.db, row.tutorProfileId).map((q) => toStatement(svc.d1, q)),
      ...(tutorUser
        ? [
            insertNotification(
              svc.d1,
              {
                id: newId("ntf"),
                userId: tutorUser.userId,
                type: "review_received",
                data: { sessionId: session.id, reviewId: row.id, rating: row.rating },
                dedupeKey: `review_received:${row.id}`,
                createdAt: now,
              },
              written,
            ),
          ]
        : []),
      // the review row's own existence is the guard: a refused review announces nothing
      insertEvent(svc.d1, { type: "review.created", objectId: row.id, dedupeKey: `review.created:${row.id}`, at: now }),
    ]);
  } catch (err) {
    // on the primary: the review that won the race may not have reached a replica yet
    const { db } = openPrimary(svc.env.DB);
    if (await db.query.reviews.findFirst({ where: eq(reviews.sessionId, session.id), columns: { id: true } })) {
      throw conflict("This lesson has already been reviewed");
    }
    throw err;
  }
  const stored = await openPrimary(svc.env.DB).db.query.reviews.findFirst({ where: eq(reviews.id, row.id) });
  if (!stored) throw conflict("Only a completed lesson (without a tutor no-show) can be reviewed");
  announceEvents(svc);
  return stored;
}

/** An approved tutor's reviews, newest first, keyset-paged on `reviews_by_tutor_and_createdAt`. */
export async function tutorReviews(
  svc: ServiceContext,
  tutorProfileId: string,
  query: { limit: number; cursor?: string },
) {
  await publicTutorRow(svc, tutorProfileId);
  const after = decodeCursor<[number, string]>(query.cursor, ["number", "string"]);
  const rows = await svc.db
    .select({
      id: reviews.id,
      rating: reviews.rating,
      comment: reviews.comment,
      createdAt: reviews.createdAt,
      displayName: studentProfiles.displayName,
    })
    .from(reviews)
    .leftJoin(studentProfiles, eq(studentProfiles.id, reviews.studentProfileId))
    .where(
      and(
        eq(reviews.tutorProfileId, tutorProfileId),
        after && sql`(${reviews.createdAt}, ${reviews.id}) < (${after[0]}, ${after[1]})`,
      ),
    )
    .orderBy(desc(reviews.createdAt), desc(reviews.id))
    .limit(query.limit + 1);
  return page(
    rows,
    query.limit,
    (r) => ({
      id: r.id,
      rating: r.rating,
      comment: r.comment,
      studentName: firstName(r.displayName ?? CLOSED_DISPLAY_NAME),
      createdAt: r.createdAt,
    }),
    (r) => [r.createdAt, r.id],
  );
}
