/**
 * The feed of a busy user: hundreds of sessions as tutor (a dozen students, a few subjects) and a
 * few as student, inserted with one SQL statement. D1 rows read per request stay at one per event
 * plus two or three per distinct name shown and a small constant, and the text is still what a
 * validator and an independent parser accept; the ETag changes with what the feed shows. Then the
 * rules of src/modules/calendar/ics.ts (folding, escaping) against arbitrary text.
 */
import fc from "fast-check";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { contentLine, escapeText } from "../../src/modules/calendar/ics";
import { call, createUser, env, json, type TestUser } from "../helpers/api";
import { createTutor, DAY, HOUR, type Tutor } from "../sessions/helpers";
import { insertSubject } from "../tutors/fixtures";
import { expectValidIcs, type ParsedEvent, parseFeed, unfold } from "./ics";

interface Row {
  id: string;
  tutorProfileId: string;
  studentProfileId: string;
  subjectId: string | null;
  startTime: number;
  status: "scheduled" | "completed" | "cancelled";
  rescheduleCount: number;
}

/** Every row in one statement: the rows travel as one JSON parameter (D1 caps bound parameters). */
async function insertSessions(rows: Row[]) {
  await env.DB.prepare(
    `INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, rescheduleCount, creditsCost, createdAt, updatedAt)
     SELECT value ->> 'id', value ->> 'tutorProfileId', value ->> 'studentProfileId', value ->> 'subjectId',
            value ->> 'startTime', (value ->> 'startTime') + ${HOUR}, value ->> 'status', value ->> 'rescheduleCount',
            1, value ->> 'startTime', (value ->> 'startTime') + 7 * 1000
     FROM json_each(?)`,
  )
    .bind(JSON.stringify(rows))
    .run();
}

function rowsRead(res: Response): { read: number; top: unknown } {
  return {
    read: Number(res.headers.get("x-d1-rows-read")),
    top: JSON.parse(decodeURIComponent(res.headers.get("x-d1-rows-top") ?? "%5B%5D")),
  };
}

async function feedPath(user: TestUser): Promise<string> {
  const res = await call("/v1/me/calendar", { token: user.token });
  expect(res.status).toBe(200);
  return new URL((await json<{ url: string }>(res)).url).pathname;
}

interface World {
  tutor: Tutor;
  expected: Omit<ParsedEvent, "utc">[];
  /** Distinct subjects, tutors and students the feed names. */
  names: { subjects: number; tutors: number; students: number };
}

const STUDENT_NAMES = ["Zoë; Ünal, Jr.", "Ana\\Maria", "Line\nBreak", "数学の先生が好き ".repeat(5).trim(), "Bo", null];

async function busyTutor(): Promise<World> {
  const subjects = await Promise.all(
    ["Algebra", "Physik, Mechanik; Teil 1", `Géométrie ${"Ωμέγα 数学 ".repeat(6)}`.trim()].map((n) => insertSubject(n)),
  );
  const tutor = await createTutor(subjects[0]?.id ?? "");
  const otherTutor = await createTutor(subjects[0]?.id ?? "");
  const students = await Promise.all(Array.from({ length: 12 }, () => createUser("student")));
  await env.DB.batch(
    students.map((s, i) =>
      env.DB.prepare("UPDATE users SET name = ? WHERE id = ?").bind(STUDENT_NAMES[i % STUDENT_NAMES.length], s.id),
    ),
  );
  // whole minutes: the feed's date-times have no milliseconds
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const subjectAt = (i: number) => (i % 4 === 3 ? null : (subjects[i % 4]?.id ?? null));
  const taught: Row[] = Array.from({ length: 300 }, (_, i) => ({
    id: `ses_scale_${i}_${crypto.randomUUID()}`,
    tutorProfileId: tutor.tutorProfileId,
    studentProfileId: students[i % students.length]?.studentProfileId ?? "",
    subjectId: subjectAt(i),
    // 100 in the last 29 days, 200 upcoming
    startTime: now - 29 * DAY + i * 7 * HOUR,
    status: i % 10 === 0 ? "cancelled" : now - 29 * DAY + i * 7 * HOUR < now ? "completed" : "scheduled",
    rescheduleCount: i % 4,
  }));
  const taken: Row[] = Array.from({ length: 20 }, (_, i) => ({
    id: `ses_taken_${i}_${crypto.randomUUID()}`,
    tutorProfileId: otherTutor.tutorProfileId,
    studentProfileId: tutor.studentProfileId ?? "",
    subjectId: subjects[0]?.id ?? null,
    startTime: now + DAY + i * 5 * HOUR + 30 * 60_000,
    status: "scheduled",
    rescheduleCount: 0,
  }));
  // not in the feed: before the 30 days, and another tutor's lessons
  const outside: Row[] = Array.from({ length: 100 }, (_, i) => ({
    id: `ses_outside_${i}_${crypto.randomUUID()}`,
    tutorProfileId: i % 2 ? tutor.tutorProfileId : otherTutor.tutorProfileId,
    studentProfileId: students[0]?.studentProfileId ?? "",
    subjectId: null,
    startTime: i % 2 ? now - 31 * DAY - i * HOUR : now + i * HOUR,
    status: "completed",
    rescheduleCount: 0,
  }));
  await insertSessions([...taught, ...taken, ...outside]);

  const subjectName = new Map(subjects.map((s) => [s.id, s.name]));
  const studentName = new Map(students.map((s, i) => [s.studentProfileId, STUDENT_NAMES[i % STUDENT_NAMES.length]]));
  const event = (r: Row, other: string) => ({
    uid: r.id,
    summary: `${(r.subjectId && subjectName.get(r.subjectId)) || "Lesson"} with ${other}`,
    start: r.startTime,
    end: r.startTime + HOUR,
    status: r.status === "cancelled" ? "CANCELLED" : "CONFIRMED",
    sequence: r.rescheduleCount + (r.status === "cancelled" ? 1 : 0),
    url: `http://api.test/v1/sessions/${r.id}`,
    transp: r.status === "cancelled" ? "TRANSPARENT" : "OPAQUE",
  });
  const expected = [
    ...taught.map((r) => event(r, studentName.get(r.studentProfileId) || "a student")),
    ...taken.map((r) => event(r, "Tess Tutor")),
  ];
  return { tutor, expected, names: { subjects: 3, tutors: 1, students: students.length } };
}

const byUid = (a: { uid: string }, b: { uid: string }) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);

describe("a feed of hundreds of sessions", () => {
  it("reads about one row per event, and the text is valid iCalendar with every event as stored", async () => {
    const w = await busyTutor();
    const path = await feedPath(w.tutor);
    const res = await call(path);
    expect(res.status).toBe(200);
    const text = await res.text();
    const { read, top } = rowsRead(res);

    expectValidIcs(text);
    const { events } = parseFeed(text);
    expect(events.every((e) => e.utc)).toBe(true);
    expect(events.map(({ utc: _, ...e }) => e).sort(byUid)).toEqual([...w.expected].sort(byUid));

    // one row per event; per distinct name its id in the looked-up list and its row (a student's
    // two: profile, then user); a constant: the token's feed and user, each range's end. Nothing
    // per session for its names, nothing outside the window.
    const names = 2 * (w.names.subjects + w.names.tutors) + 3 * w.names.students;
    const CONSTANT = 8;
    expect(read, JSON.stringify(top)).toBeLessThanOrEqual(events.length + names + CONSTANT);
    expect(events.length).toBe(320);
  });
});

describe("conditional GET", () => {
  it("If-None-Match with the ETag is 304 until something the feed shows changes", async () => {
    const w = await busyTutor();
    const path = await feedPath(w.tutor);
    const first = await call(path);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag") ?? "";
    expect(etag).toMatch(/^W\/"[0-9a-f]{32}"$/);
    await first.text();

    const conditional = (tag: string) => call(path, { headers: { "if-none-match": tag } });
    for (const tag of [etag, etag.slice(2), `"nope", ${etag}`, "*"]) {
      const res = await conditional(tag);
      expect(res.status, tag).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("private, max-age=300");
    }
    for (const tag of ['W/"0123"', "not a list", '"unterminated'])
      expect((await conditional(tag)).status, tag).toBe(200);

    // each change a feed shows: a session's revision, a name, a time off
    const changes = [
      () =>
        env.DB.prepare("UPDATE sessions SET status = 'cancelled', updatedAt = updatedAt + 1000 WHERE id = ?")
          .bind(w.expected[5]?.uid)
          .run(),
      () =>
        env.DB.prepare(
          "UPDATE subjects SET name = 'Algebra II' WHERE name = 'Algebra' AND id IN (SELECT subjectId FROM sessions WHERE tutorProfileId = ?)",
        )
          .bind(w.tutor.tutorProfileId)
          .run(),
      () =>
        call("/v1/me/tutor-profile/time-off", {
          token: w.tutor.token,
          body: { startTime: Date.now() + 40 * DAY, endTime: Date.now() + 41 * DAY },
        }),
    ];
    let previous = etag;
    for (const change of changes) {
      await change();
      const res = await conditional(previous);
      expect(res.status).toBe(200);
      const next = res.headers.get("etag") ?? "";
      expect(next).not.toBe(previous);
      expectValidIcs(await res.text());
      expect((await conditional(next)).status).toBe(304);
      previous = next;
    }
    const cancelled = parseFeed(await (await call(path)).text()).events.find((e) => e.uid === w.expected[5]?.uid);
    expect(cancelled?.status).toBe("CANCELLED");

    // the token is checked first: a rotated URL is 404 whatever the ETag
    await call("/v1/me/calendar/rotate", { method: "POST", token: w.tutor.token });
    expect((await conditional(previous)).status).toBe(404);
  });
});

describe("iCalendar text rules (ics.ts)", () => {
  const encoder = new TextEncoder();
  // arbitrary Unicode (astral planes included) and the characters TEXT escapes, often
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom(",", ";", "\\", "\n", "\r\n", "\r", " ", "é", "数"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 200,
  });

  it("a content line folds to ≤ 75 octets between code points, and unfolds to itself", () => {
    fc.assert(
      fc.property(text, (value) => {
        const line = `SUMMARY:${escapeText(value)}`;
        const written = contentLine(line);
        expect(written.endsWith("\r\n")).toBe(true);
        const physical = written.slice(0, -2).split("\r\n");
        for (const p of physical) {
          expect(encoder.encode(p).length).toBeLessThanOrEqual(75);
          // a fold inside a surrogate pair would leave a lone surrogate at either end
          expect(p).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
        }
        expect(unfold(written)).toEqual([line]);
      }),
      { numRuns: 300 },
    );
  });

  it("an escaped TEXT value reads back as the value (line breaks as LF, no other controls but HTAB)", () => {
    fc.assert(
      fc.property(text, (value) => {
        const ics = [
          "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20250101T000000Z\r\n",
          contentLine(`SUMMARY:${escapeText(value)}`),
          "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ].join("");
        const vevent = new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent("vevent");
        // biome-ignore lint/suspicious/noControlCharactersInRegex: what ics.ts drops, as RFC 5545 3.1 wants
        const shown = value.replace(/\r\n|\r/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
        expect(vevent?.getFirstPropertyValue("summary")).toBe(shown);
      }),
      { numRuns: 300 },
    );
  });
});
