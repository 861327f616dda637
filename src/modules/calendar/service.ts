/**
 * The private calendar feed: the caller's feed URL (made on first use), its rotation, and the
 * feed itself for whoever holds the URL. token.ts makes and checks the secret; feed-reads.ts reads
 * what the feed shows; feed.ts writes the iCalendar text; this file reads and writes
 * `calendarFeeds` and puts the feed together.
 */
import { and, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { calendarFeeds, users } from "../../db/schema";
import { sha256Hex } from "../../lib/crypto";
import { conflict, notFound } from "../../lib/errors";
import { buildFeed, type FeedInput, type FeedSession, feedFormat } from "./feed";
import { type FeedRows, parseFeedRows, readFeedRows, type SessionRow } from "./feed-reads";
import { FEED_TOKEN, feedToken, newNonce, tokenHash, tokenMatches } from "./token";

const DAY_MS = 24 * 60 * 60 * 1000;
/** The feed shows what starts (or, for time off, ends) from this long ago on. */
export const FEED_PAST_MS = 30 * DAY_MS;

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

/** A feed's text, or null when the caller's `If-None-Match` names its ETag (the caller answers 304). */
export interface Feed {
  etag: string;
  text: string | null;
}

/**
 * The feed of the token's owner as iCalendar text, or 404: an unknown, rotated or malformed token,
 * one made with a secret that no longer verifies, or a closed account all look the same.
 *
 * The ETag is a hash of the rows as D1 returned them and of what writes the text (the API URL,
 * feed.ts's format): any change a feed shows — a session's time, status or revision (`updatedAt`), a
 * name, a time off, one entering or leaving the window — changes it. A match skips the parsing
 * and the writing; the rows are read either way, because nothing cheaper tells of a change.
 */
export async function feedFor(svc: ServiceContext, token: string, ifNoneMatch?: string): Promise<Feed> {
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
  const raw = await readFeedRows(
    svc,
    { studentProfileId: owner.studentProfileId ?? "", tutorProfileId: owner.tutorProfileId ?? "" },
    now,
    now - FEED_PAST_MS,
  );
  const url = apiUrl(svc);
  const hash = await sha256Hex(
    [feedFormat(), url, raw.taken, raw.taught, raw.subjects, raw.tutors, raw.students, raw.timeOff].join("\n"),
  );
  // weak: the same rows give the same text, but what counts is that they mean the same events
  const etag = `W/"${hash.slice(0, 32)}"`;
  if (ifNoneMatch !== undefined && etagListed(ifNoneMatch, etag)) return { etag, text: null };
  return { etag, text: buildFeed({ apiUrl: url, ...feedSessions(parseFeedRows(raw)) }) };
}

/** RFC 9110 13.1.2: `*`, or a listed tag equal to ours under the weak comparison (`W/` ignored). */
function etagListed(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === "*") return true;
  const opaque = etag.replace(/^W\//, "");
  for (const [tag] of ifNoneMatch.matchAll(/"[^"]*"/g)) if (tag === opaque) return true;
  return false;
}

/** One event per session, with its names; a session on both sides (the user taught themselves) as the tutor's. */
function feedSessions(rows: FeedRows): Pick<FeedInput, "sessions" | "timeOff"> {
  const byId = new Map<string, FeedSession>();
  const add = (s: SessionRow, as: FeedSession["as"], others: Map<string, string | null>) =>
    byId.set(s.id, {
      id: s.id,
      startTime: s.startTime,
      endTime: s.endTime,
      status: s.status,
      rescheduleCount: s.rescheduleCount,
      updatedAt: s.updatedAt,
      subjectName: (s.subjectId === null ? undefined : rows.subjects.get(s.subjectId)) ?? null,
      otherName: others.get(s.otherProfileId) ?? null,
      as,
    });
  for (const s of rows.taken) add(s, "student", rows.tutors);
  for (const s of rows.taught) add(s, "tutor", rows.students);
  return { sessions: [...byId.values()], timeOff: rows.timeOff };
}
