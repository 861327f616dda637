/**
 * Reading a feed back in the tests: an independent parser (ical.js, Mozilla's, not the library
 * that wrote it) for the values, and validator-style checks written here against RFC 5545 for the
 * form: CRLF line ends, lines of at most 75 octets, required properties, UTC date-times, escaping.
 */
import ICAL from "ical.js";
import { expect } from "vitest";

export interface ParsedEvent {
  uid: string;
  summary: string;
  start: number;
  end: number;
  /** Both DTSTART and DTEND are UTC date-times as ical.js reads them. */
  utc: boolean;
  status: string | null;
  sequence: number;
  url: string | null;
  transp: string | null;
}

export function parseFeed(text: string): { calendar: ICAL.Component; events: ParsedEvent[] } {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const ev = new ICAL.Event(vevent);
    const prop = (name: string) => {
      const v = vevent.getFirstPropertyValue(name);
      return v === null || v === undefined ? null : String(v);
    };
    return {
      uid: ev.uid,
      summary: ev.summary,
      start: ev.startDate.toJSDate().getTime(),
      end: ev.endDate.toJSDate().getTime(),
      utc: ev.startDate.zone?.tzid === "UTC" && ev.endDate.zone?.tzid === "UTC",
      status: prop("status"),
      sequence: ev.sequence,
      url: prop("url"),
      transp: prop("transp"),
    };
  });
  return { calendar, events };
}

const encoder = new TextEncoder();

/** Content lines after unfolding (RFC 5545 3.1: CRLF followed by one space or tab is removed). */
export function unfold(text: string): string[] {
  return text
    .replace(/\r\n[ \t]/g, "")
    .split("\r\n")
    .filter((l) => l !== "");
}

/** The checks a validator makes on the form of the text; fails the test with what is wrong. */
export function expectValidIcs(text: string): void {
  // every line ends in CRLF: no bare LF or CR anywhere, and the text ends with CRLF
  expect(text.replace(/\r\n/g, ""), "bare CR or LF").not.toMatch(/[\r\n]/);
  expect(text.endsWith("\r\n"), "the last line ends with CRLF").toBe(true);
  const physical = text.split("\r\n").slice(0, -1);
  const tooLong = physical.filter((l) => encoder.encode(l).length > 75);
  expect(tooLong, "lines over 75 octets").toEqual([]);

  const lines = unfold(text);
  expect(lines[0]).toBe("BEGIN:VCALENDAR");
  expect(lines.at(-1)).toBe("END:VCALENDAR");
  const top = topLevel(lines);
  expect(top.filter((l) => l.startsWith("VERSION:"))).toEqual(["VERSION:2.0"]);
  expect(top.filter((l) => l.startsWith("PRODID:"))).toHaveLength(1);

  for (const event of blocks(lines, "VEVENT")) {
    for (const name of ["UID", "DTSTAMP", "DTSTART"]) {
      expect(
        event.filter((l) => propName(l) === name),
        `${name} once in ${event.join(" | ")}`,
      ).toHaveLength(1);
    }
    for (const l of event) {
      if (["DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED"].includes(propName(l))) {
        expect(l, "a UTC date-time").toMatch(/^[A-Z-]+:\d{8}T\d{6}Z$/);
      }
    }
  }
}

/** The TEXT value of a SUMMARY as written, unescaped by RFC 5545 3.3.11 (the check of the escaping). */
export function rawSummaries(text: string): string[] {
  return unfold(text)
    .filter((l) => propName(l) === "SUMMARY")
    .map((l) => l.slice(l.indexOf(":") + 1));
}

const propName = (line: string) => line.split(/[;:]/, 1)[0] ?? "";

function topLevel(lines: string[]): string[] {
  let depth = 0;
  const out: string[] = [];
  for (const l of lines) {
    if (l.startsWith("BEGIN:")) depth++;
    else if (l.startsWith("END:")) depth--;
    else if (depth === 1) out.push(l);
  }
  return out;
}

function blocks(lines: string[], name: string): string[][] {
  const out: string[][] = [];
  let current: string[] | null = null;
  for (const l of lines) {
    if (l === `BEGIN:${name}`) current = [];
    else if (l === `END:${name}` && current) {
      out.push(current);
      current = null;
    } else current?.push(l);
  }
  return out;
}
