/**
 * Everything a feed shows, in one statement and one row, for about one D1 row read per event:
 *
 * - the sessions by their own columns only, each window one range of a (profile, startTime, id)
 *   index in the order its cap keeps. Joining every session's subject and other participant
 *   (tutor profile; student profile and user) read up to four rows per event, while a feed's
 *   hundreds of sessions name a few subjects and people;
 * - so those names afterwards, once each by primary key, from the distinct ids the same pass
 *   collected (`json_group_array(DISTINCT …)` reads no row of its own);
 * - the tutor's time off.
 *
 * Each list comes back as one JSON value, not as rows: D1 reads the same rows either way, but
 * every returned row is an object made by the D1 client (and drizzle), which cost more CPU than
 * the rest of the feed.
 */
import type { ServiceContext } from "../../context";
import { type SessionStatus, TIME_OFF_MAX_MS } from "../../db/schema";
import type { FeedSession } from "./feed";

/** At most this many sessions per side (student, tutor) and window (upcoming, past), and time offs. */
export const FEED_MAX_ROWS = 500;

type Side = "student" | "tutor";

/** A session's own columns as the feed reads them (the names come once each, see below). */
export type SessionRow = Omit<FeedSession, "subjectName" | "otherName" | "as"> & {
  subjectId: string | null;
  /** The other side's profile: the tutor's of a session the user takes, the student's of one they teach. */
  otherProfileId: string;
};

export interface TimeOffRow {
  id: string;
  startTime: number;
  endTime: number;
  createdAt: number;
}

export interface FeedRows {
  /** The sessions the user takes (as student) and those they teach. */
  taken: SessionRow[];
  taught: SessionRow[];
  timeOff: TimeOffRow[];
  /** Names by id; a student's is null unless they set one (never the profile name, which may be from the e-mail). */
  subjects: Map<string, string>;
  tutors: Map<string, string>;
  students: Map<string, string | null>;
}

/** One window: ?1 the student profile, ?2 the tutor profile, ?3 now, ?4 the window's start. */
const window = (side: Side, range: string, order: "ASC" | "DESC") => {
  const [own, other] =
    side === "tutor" ? ["tutorProfileId", "studentProfileId"] : ["studentProfileId", "tutorProfileId"];
  return `SELECT * FROM (
    SELECT '${side}' AS side, id, startTime, endTime, status, rescheduleCount, updatedAt, subjectId, ${other} AS other
    FROM sessions WHERE ${own} = ${side === "tutor" ? "?2" : "?1"} AND ${range}
    ORDER BY startTime ${order}, id ${order} LIMIT ${FEED_MAX_ROWS})`;
};
// Upcoming lessons and the last 30 days are capped separately, so a busy past never crowds out
// what is to come: the next lessons first, the past newest first.
const UPCOMING = "startTime >= ?3";
const PAST = "startTime >= ?4 AND startTime < ?3";

const FEED_SQL = `WITH page AS (
  ${window("student", UPCOMING, "ASC")}
  UNION ALL ${window("student", PAST, "DESC")}
  UNION ALL ${window("tutor", UPCOMING, "ASC")}
  UNION ALL ${window("tutor", PAST, "DESC")}
), found AS (
  SELECT
    json_group_array(json_array(id, startTime, endTime, status, rescheduleCount, updatedAt, subjectId, other))
      FILTER (WHERE side = 'student') AS taken,
    json_group_array(json_array(id, startTime, endTime, status, rescheduleCount, updatedAt, subjectId, other))
      FILTER (WHERE side = 'tutor') AS taught,
    json_group_array(DISTINCT subjectId) FILTER (WHERE subjectId IS NOT NULL) AS subjectIds,
    json_group_array(DISTINCT other) FILTER (WHERE side = 'student') AS tutorIds,
    json_group_array(DISTINCT other) FILTER (WHERE side = 'tutor') AS studentIds
  FROM page
)
SELECT
  taken,
  taught,
  (SELECT json_group_object(s.id, s.name) FROM json_each(subjectIds) AS ids
    JOIN subjects AS s ON s.id = ids.value) AS subjects,
  (SELECT json_group_object(t.id, t.displayName) FROM json_each(tutorIds) AS ids
    JOIN tutorProfiles AS t ON t.id = ids.value) AS tutors,
  (SELECT json_group_object(p.id, u.name) FROM json_each(studentIds) AS ids
    JOIN studentProfiles AS p ON p.id = ids.value JOIN users AS u ON u.id = p.userId) AS students,
  -- a time off lasts at most 90 days: one bounded range on (tutorProfileId, startTime, id)
  (SELECT json_group_array(json_array(id, startTime, endTime, createdAt)) FROM (
    SELECT id, startTime, endTime, createdAt FROM tutorTimeOff
    WHERE tutorProfileId = ?2 AND startTime > ?5 AND endTime >= ?4
    ORDER BY startTime, id LIMIT ${FEED_MAX_ROWS})) AS timeOff
FROM found`;

type SessionTuple = [string, number, number, SessionStatus, number, number, string | null, string];
type TimeOffTuple = [string, number, number, number];

/** The statement's one row: every column a JSON text, exactly as D1 returned it. */
export interface RawFeedRows {
  taken: string;
  taught: string;
  subjects: string;
  tutors: string;
  students: string;
  timeOff: string;
}

/**
 * The sessions of the user's profiles (an empty id matches none) that start from `from` on, and the
 * tutor profile's time off that ends from `from` on; `now` splits each side's two windows.
 */
export async function readFeedRows(
  svc: ServiceContext,
  profiles: { studentProfileId: string; tutorProfileId: string },
  now: number,
  from: number,
): Promise<RawFeedRows> {
  const row = await svc.d1
    .prepare(FEED_SQL)
    .bind(profiles.studentProfileId, profiles.tutorProfileId, now, from, from - TIME_OFF_MAX_MS)
    .first<RawFeedRows>();
  // an aggregate over no rows still answers its one row
  if (!row) throw new Error("the feed statement answered no row");
  return row;
}

const entries = <T>(json: string) => new Map(Object.entries(JSON.parse(json) as Record<string, T>));

const sessionRows = (json: string): SessionRow[] =>
  (JSON.parse(json) as SessionTuple[]).map(
    ([id, startTime, endTime, status, rescheduleCount, updatedAt, subjectId, otherProfileId]) => ({
      id,
      startTime,
      endTime,
      status,
      rescheduleCount,
      updatedAt,
      subjectId,
      otherProfileId,
    }),
  );

export function parseFeedRows(raw: RawFeedRows): FeedRows {
  const timeOff = (JSON.parse(raw.timeOff) as TimeOffTuple[]).map(([id, startTime, endTime, createdAt]) => ({
    id,
    startTime,
    endTime,
    createdAt,
  }));
  return {
    taken: sessionRows(raw.taken),
    taught: sessionRows(raw.taught),
    timeOff,
    subjects: entries<string>(raw.subjects),
    tutors: entries<string>(raw.tutors),
    students: entries<string | null>(raw.students),
  };
}
