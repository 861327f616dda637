/**
 * The iCalendar (RFC 5545) text of one user's feed, from rows already read (service.ts). Pure: no
 * database, no clock. ical-generator writes the properties, escapes TEXT values (`\`, `;`, `,`,
 * newlines) and folds lines at 75 octets with CRLF; nothing here formats iCalendar by hand.
 * docs/calendar.md says why this library.
 */
import ical, { ICalEventStatus, ICalEventTransparency } from "ical-generator";
import type { SessionStatus } from "../../db/schema";

/** A session as the feed shows it: the caller's side decides whose name is the "other". */
export interface FeedSession {
  id: string;
  startTime: number;
  endTime: number;
  status: SessionStatus;
  rescheduleCount: number;
  updatedAt: number;
  subjectName: string | null;
  /** The other participant's display name (tutor profile's, or the student's user name), if any. */
  otherName: string | null;
  /** The caller's side of the session. */
  as: "student" | "tutor";
}

export interface FeedTimeOff {
  id: string;
  startTime: number;
  endTime: number;
  createdAt: number;
}

export interface FeedInput {
  /** `PUBLIC_API_URL` without a trailing slash: the sessions' URL properties start with it. */
  apiUrl: string;
  sessions: FeedSession[];
  timeOff: FeedTimeOff[];
}

export const CALENDAR_NAME = "tutorloop lessons";
/** The refresh interval suggested to clients (REFRESH-INTERVAL, X-PUBLISHED-TTL); most poll less often anyway. */
const SUGGESTED_REFRESH_SECONDS = 15 * 60;

/** The words standing in for what is unknown: a student who set no name, a session without a subject. */
const NO_STUDENT_NAME = "a student";
const NO_TUTOR_NAME = "your tutor";
const NO_SUBJECT = "Lesson";

export function summaryOf(s: FeedSession): string {
  const other = s.otherName?.trim() || (s.as === "tutor" ? NO_STUDENT_NAME : NO_TUTOR_NAME);
  return `${s.subjectName?.trim() || NO_SUBJECT} with ${other}`;
}

/**
 * SEQUENCE: each reschedule is a revision of the event (rescheduleCount); a cancellation is one
 * more, so a client that saw the last time takes the CANCELLED copy as newer and removes it.
 */
export const sequenceOf = (s: Pick<FeedSession, "rescheduleCount" | "status">) =>
  s.rescheduleCount + (s.status === "cancelled" ? 1 : 0);

export function buildFeed(input: FeedInput): string {
  const cal = ical({
    prodId: { company: "tutorloop", product: "calendar-feed", language: "EN" },
    name: CALENDAR_NAME,
    ttl: SUGGESTED_REFRESH_SECONDS,
  });
  for (const s of input.sessions) {
    cal.createEvent({
      id: s.id,
      start: new Date(s.startTime),
      end: new Date(s.endTime),
      // last revision in our store (no METHOD: RFC 5545 3.8.7.2), so the text only changes with the data
      stamp: new Date(s.updatedAt),
      lastModified: new Date(s.updatedAt),
      summary: summaryOf(s),
      status: s.status === "cancelled" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      sequence: sequenceOf(s),
      url: `${input.apiUrl}/v1/sessions/${s.id}`,
      transparency: s.status === "cancelled" ? ICalEventTransparency.TRANSPARENT : ICalEventTransparency.OPAQUE,
    });
  }
  for (const t of input.timeOff) {
    cal.createEvent({
      id: t.id,
      start: new Date(t.startTime),
      end: new Date(t.endTime),
      stamp: new Date(t.createdAt),
      summary: "Time off",
      status: ICalEventStatus.CONFIRMED,
      transparency: ICalEventTransparency.OPAQUE,
    });
  }
  // RFC 5545 3.1: every content line ends with CRLF, the last one too; ical-generator ends the
  // text at "END:VCALENDAR" without one (test/calendar/ics.ts checks the terminator)
  return `${cal.toString()}\r\n`;
}
