/**
 * The private calendar feed: the caller's feed URL (made on first use), its rotation, and the
 * feed itself for whoever holds the URL. token.ts makes and checks the secret; feed.ts writes the
 * iCalendar text; this file reads and writes `calendarFeeds` and the rows the feed shows.
 */
import { and, asc, desc, eq, gt, gte, lt, sql } from "drizzle-orm";
import { alias, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { ServiceContext } from "../../context";
import {
  calendarFeeds,
  sessions,
  studentProfiles,
  subjects,
  TIME_OFF_MAX_MS,
  tutorProfiles,
  tutorTimeOff,
  users,
} from "../../db/schema";
import { conflict, notFound } from "../../lib/errors";
import { buildFeed, type FeedSession } from "./feed";
import { FEED_TOKEN, feedToken, newNonce, tokenHash, tokenMatches } from "./token";

const DAY_MS = 24 * 60 * 60 * 1000;
/** The feed shows what starts (or, for time off, ends) from this long ago on. */
export const FEED_PAST_MS = 30 * DAY_MS;
/** At most this many sessions per side (student, tutor) and window (upcoming, past), and time offs. */
export const FEED_MAX_ROWS = 500;

const apiUrl = (svc: ServiceContext) => svc.config.PUBLIC_API_URL.replace(/\/+$/, "");
const feedUrl = (svc: ServiceContext, token: string) => `${apiUrl(svc)}/v1/calendar/${token}.ics`;

/**
 * The caller's feed URL; the first call makes the feed. The URL is recomputed from the stored
 * nonce, so it stays the same until a rotation. When JWT_SECRET has changed since the hash was
 * written, the recomputed token no longer matches it: the hash is rewritten, so the URL changes
 * (the old one keeps working only while JWT_SECRET_PREVIOUS still verifies it and until this call).
 */
export async function getFeedUrl(svc: ServiceContext, userId: string): Promise<{ url: string }> {
  // two rounds at most: a concurrent rotation may replace the nonce between the read and the write
  for (let round = 0; round < 2; round++) {
    const row = (await readFeed(svc, userId)) ?? (await createFeed(svc, userId));
    const { token, tokenHash: hash } = await feedToken(svc.config, userId, row.nonce);
    if (hash === row.tokenHash) return { url: feedUrl(svc, token) };
    const rewritten = await svc.db
      .update(calendarFeeds)
      .set({ tokenHash: hash })
      .where(and(eq(calendarFeeds.userId, userId), eq(calendarFeeds.nonce, row.nonce)))
      .returning({ userId: calendarFeeds.userId });
    if (rewritten.length > 0) return { url: feedUrl(svc, token) };
  }
  throw conflict("The calendar feed changed meanwhile; try again");
}

/** A new nonce, so a new URL; the old URL is 404 from the commit on. Makes the feed if there was none. */
export async function rotateFeed(svc: ServiceContext, userId: string): Promise<{ url: string }> {
  const nonce = newNonce();
  const { token, tokenHash: hash } = await feedToken(svc.config, userId, nonce);
  const now = svc.clock.now();
  await svc.db
    .insert(calendarFeeds)
    .values({ userId, nonce, tokenHash: hash, createdAt: now, rotatedAt: now })
    .onConflictDoUpdate({ target: calendarFeeds.userId, set: { nonce, tokenHash: hash, rotatedAt: now } });
  return { url: feedUrl(svc, token) };
}

function readFeed(svc: ServiceContext, userId: string) {
  return svc.db.query.calendarFeeds.findFirst({ where: eq(calendarFeeds.userId, userId) });
}

/** Inserts the feed unless a concurrent first call did; either way returns the row that is stored. */
async function createFeed(svc: ServiceContext, userId: string) {
  const nonce = newNonce();
  const { tokenHash: hash } = await feedToken(svc.config, userId, nonce);
  const [, rows] = await svc.db.batch([
    svc.db
      .insert(calendarFeeds)
      .values({ userId, nonce, tokenHash: hash, createdAt: svc.clock.now(), rotatedAt: null })
      .onConflictDoNothing({ target: calendarFeeds.userId }),
    svc.db.select().from(calendarFeeds).where(eq(calendarFeeds.userId, userId)),
  ]);
  const row = rows[0];
  if (!row) throw conflict("The calendar feed could not be created; try again");
  return row;
}

/**
 * The feed of the token's owner as iCalendar text, or 404: an unknown, rotated or malformed token,
 * one made with a secret that no longer verifies, or a closed account all look the same.
 */
export async function feedFor(svc: ServiceContext, token: string): Promise<string> {
  if (!FEED_TOKEN.test(token)) throw notFound("Calendar");
  const [owner] = await svc.db
    .select({
      userId: calendarFeeds.userId,
      nonce: calendarFeeds.nonce,
      deletedAt: users.deletedAt,
      studentProfileId: users.studentProfileId,
      tutorProfileId: users.tutorProfileId,
    })
    .from(calendarFeeds)
    .innerJoin(users, eq(users.id, calendarFeeds.userId))
    .where(eq(calendarFeeds.tokenHash, await tokenHash(token)));
  if (!owner || owner.deletedAt !== null) throw notFound("Calendar");
  if (!(await tokenMatches(svc.config, token, owner.userId, owner.nonce))) throw notFound("Calendar");

  const now = svc.clock.now();
  const from = now - FEED_PAST_MS;
  // Upcoming lessons and the last 30 days are capped separately, so a busy past never crowds out
  // what is to come: the next lessons first, the past newest first.
  const future: Window = { from: now, order: "asc" };
  const past: Window = { from, to: now, order: "desc" };
  const [studentNext, studentPast, tutorNext, tutorPast, timeOff] = await svc.db.batch([
    studentSide(svc, owner.studentProfileId ?? "", future),
    studentSide(svc, owner.studentProfileId ?? "", past),
    tutorSide(svc, owner.tutorProfileId ?? "", future),
    tutorSide(svc, owner.tutorProfileId ?? "", past),
    svc.db
      .select({
        id: tutorTimeOff.id,
        startTime: tutorTimeOff.startTime,
        endTime: tutorTimeOff.endTime,
        createdAt: tutorTimeOff.createdAt,
      })
      .from(tutorTimeOff)
      .where(
        and(
          eq(tutorTimeOff.tutorProfileId, owner.tutorProfileId ?? ""),
          // a time off lasts at most 90 days: one bounded range on (tutorProfileId, startTime)
          gt(tutorTimeOff.startTime, from - TIME_OFF_MAX_MS),
          gte(tutorTimeOff.endTime, from),
        ),
      )
      .orderBy(asc(tutorTimeOff.startTime), asc(tutorTimeOff.id))
      .limit(FEED_MAX_ROWS),
  ]);
  // one event per session even if both sides ever named the same one
  const byId = new Map<string, FeedSession>();
  for (const s of [...studentPast, ...studentNext]) byId.set(s.id, { ...s, as: "student" });
  for (const s of [...tutorPast, ...tutorNext]) byId.set(s.id, { ...s, as: "tutor" });
  return buildFeed({ apiUrl: apiUrl(svc), sessions: [...byId.values()], timeOff });
}

/**
 * Every selected column gets its own name: inside `db.batch` drizzle reads D1's rows as objects
 * keyed by column name, so two `name` columns (subject's and student's) would collide.
 */
const named = <T>(column: SQLiteColumn, as: string) => sql<T>`${column}`.as(as);

const sessionColumns = {
  id: sessions.id,
  startTime: sessions.startTime,
  endTime: sessions.endTime,
  status: sessions.status,
  rescheduleCount: sessions.rescheduleCount,
  updatedAt: sessions.updatedAt,
  subjectName: named<string | null>(subjects.name, "subjectName"),
};

/** A stretch of start times read on a (profile, startTime) index, in the order that the cap keeps. */
interface Window {
  from: number;
  to?: number;
  order: "asc" | "desc";
}

const inWindow = (profile: SQLiteColumn, id: string, w: Window) =>
  and(eq(profile, id), gte(sessions.startTime, w.from), w.to === undefined ? undefined : lt(sessions.startTime, w.to));
const windowOrder = (w: Window) =>
  w.order === "asc" ? [asc(sessions.startTime), asc(sessions.id)] : [desc(sessions.startTime), desc(sessions.id)];

/** Sessions the user takes: the other participant is the tutor, by the tutor profile's display name. */
function studentSide(svc: ServiceContext, studentProfileId: string, w: Window) {
  return svc.db
    .select({ ...sessionColumns, otherName: named<string | null>(tutorProfiles.displayName, "otherName") })
    .from(sessions)
    .leftJoin(subjects, eq(subjects.id, sessions.subjectId))
    .leftJoin(tutorProfiles, eq(tutorProfiles.id, sessions.tutorProfileId))
    .where(inWindow(sessions.studentProfileId, studentProfileId, w))
    .orderBy(...windowOrder(w))
    .limit(FEED_MAX_ROWS);
}

/** The student's user `name` (null unless they set one; never the profile name, which may be from the e-mail). */
const student = alias(users, "student");

/** Sessions the user teaches: the other participant is the student. */
function tutorSide(svc: ServiceContext, tutorProfileId: string, w: Window) {
  return svc.db
    .select({ ...sessionColumns, otherName: named<string | null>(student.name, "otherName") })
    .from(sessions)
    .leftJoin(subjects, eq(subjects.id, sessions.subjectId))
    .leftJoin(studentProfiles, eq(studentProfiles.id, sessions.studentProfileId))
    .leftJoin(student, eq(student.id, studentProfiles.userId))
    .where(inWindow(sessions.tutorProfileId, tutorProfileId, w))
    .orderBy(...windowOrder(w))
    .limit(FEED_MAX_ROWS);
}
