/**
 * The iCalendar (RFC 5545) text of one user's feed, from rows already read (service.ts). Pure: no
 * database, no clock, so the same rows always give the same text. ics.ts holds the RFC's rules
 * (escaping, folding, date-times); docs/calendar.md describes every property written here.
 */
import type { SessionStatus } from "../../db/schema";
import { CRLF, contentLine, escapeText, utcDateTimes } from "./ics";

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

/** The calendar's own properties; REFRESH-INTERVAL and X-PUBLISHED-TTL suggest the same interval. */
const HEADER = [
  "BEGIN:VCALENDAR",
  "VERSION:2.0",
  "PRODID:-//tutorloop//calendar-feed//EN",
  `NAME:${escapeText(CALENDAR_NAME)}`,
  `X-WR-CALNAME:${escapeText(CALENDAR_NAME)}`,
  `REFRESH-INTERVAL;VALUE=DURATION:PT${SUGGESTED_REFRESH_SECONDS / 60}M`,
  `X-PUBLISHED-TTL:PT${SUGGESTED_REFRESH_SECONDS / 60}M`,
]
  .map(contentLine)
  .join("");

export function buildFeed(input: FeedInput): string {
  const at = utcDateTimes();
  // a feed has a few distinct subjects and counterparts: each SUMMARY line is escaped and folded once
  const summaries = new Map<string, string>();
  const summaryLine = (summary: string) => {
    let line = summaries.get(summary);
    if (line === undefined) {
      line = contentLine(`SUMMARY:${escapeText(summary)}`);
      summaries.set(summary, line);
    }
    return line;
  };
  const sessionUrl = `URL;VALUE=URI:${input.apiUrl}/v1/sessions/`;
  const out: string[] = [HEADER];
  for (const s of input.sessions) {
    const cancelled = s.status === "cancelled";
    // last revision in our store (no METHOD: RFC 5545 3.8.7.2), so the text only changes with the data
    const stamp = at(s.updatedAt);
    out.push(
      `BEGIN:VEVENT${CRLF}`,
      contentLine(`UID:${s.id}`),
      `SEQUENCE:${sequenceOf(s)}${CRLF}DTSTAMP:${stamp}${CRLF}`,
      `DTSTART:${at(s.startTime)}${CRLF}DTEND:${at(s.endTime)}${CRLF}`,
      summaryLine(summaryOf(s)),
      cancelled ? `TRANSP:TRANSPARENT${CRLF}` : `TRANSP:OPAQUE${CRLF}`,
      contentLine(sessionUrl + s.id),
      cancelled ? `STATUS:CANCELLED${CRLF}` : `STATUS:CONFIRMED${CRLF}`,
      `LAST-MODIFIED:${stamp}${CRLF}END:VEVENT${CRLF}`,
    );
  }
  for (const t of input.timeOff) {
    out.push(
      `BEGIN:VEVENT${CRLF}`,
      contentLine(`UID:${t.id}`),
      `SEQUENCE:0${CRLF}DTSTAMP:${at(t.createdAt)}${CRLF}`,
      `DTSTART:${at(t.startTime)}${CRLF}DTEND:${at(t.endTime)}${CRLF}`,
      `SUMMARY:Time off${CRLF}TRANSP:OPAQUE${CRLF}STATUS:CONFIRMED${CRLF}END:VEVENT${CRLF}`,
    );
  }
  out.push(`END:VCALENDAR${CRLF}`);
  return out.join("");
}

/** Rows that take every branch of `buildFeed`: both sides, names missing, a cancellation, escaping, folding. */
const SAMPLE: FeedInput = {
  apiUrl: "https://api.example",
  sessions: [
    { ...sampleSession("ses_a", "student"), subjectName: "Algèbre, niveau 2; \\ ", otherName: "Tess\nTutor" },
    { ...sampleSession("ses_b", "tutor"), status: "cancelled", rescheduleCount: 2, subjectName: "数学".repeat(30) },
    sampleSession("ses_c", "student"),
  ],
  timeOff: [{ id: "tof_a", startTime: 1_700_000_000_000, endTime: 1_700_086_400_000, createdAt: 1_699_000_000_000 }],
};

function sampleSession(id: string, as: FeedSession["as"]): FeedSession {
  const at = 1_700_000_000_000;
  return {
    id,
    as,
    startTime: at,
    endTime: at + 3_600_000,
    status: "scheduled",
    rescheduleCount: 0,
    updatedAt: at,
    subjectName: null,
    otherName: null,
  };
}

let format: string | undefined;

/**
 * The text of a fixed sample, part of every ETag (service.ts): the same rows give another text
 * once this file writes differently, so its ETags must differ too — with no version to bump.
 */
export function feedFormat(): string {
  format ??= buildFeed(SAMPLE);
  return format;
}
