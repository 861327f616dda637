/**
 * The private calendar feed: GET /v1/me/calendar, POST /v1/me/calendar/rotate and
 * GET /v1/calendar/:token.ics. The .ics is read back with ical.js (an independent parser) and
 * checked like a validator would (test/calendar/ics.ts).
 */
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { sha256Hex } from "../../src/lib/crypto";
import { derivedKey } from "../auth/helpers";
import { call, createUser, env, expectProblem, json, type TestUser } from "../helpers/api";
import { book, createTutor, DAY, fund, HOUR, slotAt, type Tutor } from "../sessions/helpers";
import { insertSubject } from "../tutors/fixtures";
import { expectValidIcs, parseFeed, rawSummaries } from "./ics";

const FEED_URL = /^http:\/\/api\.test\/v1\/calendar\/([A-Za-z0-9_-]{43})\.ics$/;

async function feedUrl(token: string, method: "GET" | "POST" = "GET"): Promise<string> {
  const res = await call(method === "GET" ? "/v1/me/calendar" : "/v1/me/calendar/rotate", { method, token });
  expect(res.status).toBe(200);
  const { url } = await json<{ url: string }>(res);
  expect(url).toMatch(FEED_URL);
  return url;
}

const pathOf = (url: string) => new URL(url).pathname;
const tokenOf = (url: string) => FEED_URL.exec(url)?.[1] ?? "";

async function readFeed(url: string) {
  const res = await call(pathOf(url));
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe("private, max-age=300");
  const text = await res.text();
  expectValidIcs(text);
  return { text, ...parseFeed(text) };
}

interface World {
  subjectName: string;
  tutor: Tutor;
  student: TestUser;
  sessionId: string;
  start: number;
}

async function world(subjectName = "Algebra"): Promise<World> {
  const subject = await insertSubject(subjectName);
  const tutor = await createTutor(subject.id);
  const student = await createUser("student");
  await fund(student, 20);
  const start = slotAt(72);
  const res = await book(student, tutor, subject.id, start);
  expect(res.status).toBe(201);
  return { subjectName, tutor, student, sessionId: (await json<{ id: string }>(res)).id, start };
}

async function insertSessionAt(w: World, startTime: number): Promise<string> {
  const id = `ses_${crypto.randomUUID()}`;
  await env.DB.prepare(
    "INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, createdAt, updatedAt) VALUES (?, ?, ?, NULL, ?, ?, 'completed', 1, ?, ?)",
  )
    .bind(id, w.tutor.tutorProfileId, w.student.studentProfileId, startTime, startTime + HOUR, startTime, startTime)
    .run();
  return id;
}

describe("feed URL", () => {
  it("anonymous callers get 401 on the caller's routes", async () => {
    await expectProblem(await call("/v1/me/calendar"), 401, "unauthorized");
    await expectProblem(await call("/v1/me/calendar/rotate", { method: "POST" }), 401, "unauthorized");
  });

  it("is made on first use, the same on every call, the documented HMAC, and only its hash is stored", async () => {
    const user = await createUser();
    const url = await feedUrl(user.token);
    expect(await feedUrl(user.token)).toBe(url);
    const row = await env.DB.prepare("SELECT * FROM calendarFeeds WHERE userId = ?")
      .bind(user.id)
      .first<{ nonce: string; tokenHash: string; rotatedAt: number | null }>();
    const token = tokenOf(url);
    expect(row?.tokenHash).toBe(await sha256Hex(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row?.rotatedAt).toBeNull();
    // computed independently: HMAC-SHA256 over "userId\nnonce" with the HKDF key of "calendar-feed"
    const { bytes } = await derivedKey(getConfig(env).JWT_SECRET, "calendar-feed");
    const key = await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${user.id}\n${row?.nonce}`)),
    );
    expect(
      btoa(String.fromCharCode(...mac))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, ""),
    ).toBe(token);
  });

  it("two first calls at once agree on one URL", async () => {
    const user = await createUser();
    const urls = await Promise.all([feedUrl(user.token), feedUrl(user.token), feedUrl(user.token)]);
    expect(new Set(urls).size).toBe(1);
  });

  it("rotation gives a new URL; the old one is 404 and GET shows the new one", async () => {
    const w = await world();
    const first = await feedUrl(w.student.token);
    await readFeed(first);
    const rotated = await feedUrl(w.student.token, "POST");
    expect(rotated).not.toBe(first);
    await expectProblem(await call(pathOf(first)), 404, "not_found");
    expect((await readFeed(rotated)).events.map((e) => e.uid)).toEqual([w.sessionId]);
    expect(await feedUrl(w.student.token)).toBe(rotated);
    // rotating before any GET makes the feed too
    const fresh = await createUser();
    const made = await feedUrl(fresh.token, "POST");
    expect(await feedUrl(fresh.token)).toBe(made);
  });

  it("anything but a live token in the path is 404 problem+json, never 5xx", async () => {
    const user = await createUser();
    const token = tokenOf(await feedUrl(user.token));
    const paths = [
      `/v1/calendar/${token}`,
      `/v1/calendar/${token}.ICS`,
      `/v1/calendar/${token}.ics.ics`,
      `/v1/calendar/${token.slice(1)}.ics`,
      `/v1/calendar/${token}A.ics`,
      `/v1/calendar/${"A".repeat(43)}.ics`,
      "/v1/calendar/.ics",
      "/v1/calendar/abc.ics",
      "/v1/calendar/%FF%FE%00.ics",
      `/v1/calendar/${token.slice(0, 40)}%2F..ics`,
      `/v1/calendar/${"x".repeat(5000)}.ics`,
      "/v1/calendar/%E2%80%AE.ics",
    ];
    for (const path of paths) await expectProblem(await call(path), 404, "not_found");
  });
});

describe("feed content", () => {
  it("the student's and the tutor's sessions: UID, UTC times, SUMMARY, STATUS, SEQUENCE, URL", async () => {
    // long and non-ASCII, with the characters TEXT must escape: folding and escaping are exercised
    const subjectName = "Mathématiques, algèbre; géométrie \\ ",
      tail = "Ωμέγα 数学 ".repeat(6);
    const w = await world(`${subjectName}${tail}`.trim());
    const renamed = await call("/v1/me", { method: "PATCH", token: w.student.token, body: { name: "Zoë; Ünal, Jr." } });
    expect(renamed.status).toBe(200);

    const student = await readFeed(await feedUrl(w.student.token));
    expect(student.events).toEqual([
      {
        uid: w.sessionId,
        summary: `${w.subjectName} with Tess Tutor`,
        start: w.start,
        end: w.start + HOUR,
        utc: true,
        status: "CONFIRMED",
        sequence: 0,
        url: `http://api.test/v1/sessions/${w.sessionId}`,
        transp: "OPAQUE",
      },
    ]);
    expect(student.text).toMatch(/\r\n [^\r\n]/); // folded
    expect(rawSummaries(student.text)[0]).toContain("Mathématiques\\, algèbre\\; géométrie \\\\");
    expect(student.calendar.getFirstPropertyValue("x-wr-calname")).toBe("tutorloop lessons");

    const tutor = await readFeed(await feedUrl(w.tutor.token));
    expect(tutor.events.map((e) => [e.uid, e.summary])).toEqual([
      [w.sessionId, `${w.subjectName} with Zoë; Ünal, Jr.`],
    ]);
    expect(rawSummaries(tutor.text)[0]).toContain("Zoë\\; Ünal\\, Jr.");
    expect(tutor.text).not.toContain(w.student.email);
    expect(student.text).not.toContain(w.tutor.email);
  });

  it("a student without a name is 'a student', never their e-mail address", async () => {
    const w = await world();
    const feed = await readFeed(await feedUrl(w.tutor.token));
    expect(feed.events[0]?.summary).toBe("Algebra with a student");
    expect(feed.text).not.toContain(w.student.email.split("@")[0]);
  });

  it("a reschedule keeps the UID and raises SEQUENCE; a cancellation is CANCELLED, one revision later", async () => {
    const w = await world();
    const url = await feedUrl(w.student.token);
    for (const [i, to] of [slotAt(96), slotAt(120)].entries()) {
      const moved = await call(`/v1/sessions/${w.sessionId}/reschedule`, {
        token: w.student.token,
        body: { startTime: to },
      });
      expect(moved.status).toBe(200);
      const [event] = (await readFeed(url)).events;
      expect(event).toMatchObject({
        uid: w.sessionId,
        start: to,
        end: to + HOUR,
        sequence: i + 1,
        status: "CONFIRMED",
      });
    }
    const cancelled = await call(`/v1/sessions/${w.sessionId}/cancel`, {
      token: w.student.token,
      body: { reason: "ill" },
    });
    expect(cancelled.status).toBe(200);
    for (const token of [w.student.token, w.tutor.token]) {
      const [event] = (await readFeed(await feedUrl(token))).events;
      expect(event).toMatchObject({ uid: w.sessionId, status: "CANCELLED", sequence: 3, transp: "TRANSPARENT" });
    }
  });

  it("sessions from 30 days ago on; the tutor's time off as busy events", async () => {
    const w = await world();
    const now = Date.now();
    const old = await insertSessionAt(w, now - 31 * DAY);
    const recent = await insertSessionAt(w, now - 29 * DAY);
    const off = await call("/v1/me/tutor-profile/time-off", {
      token: w.tutor.token,
      body: { startTime: slotAt(200), endTime: slotAt(224), note: "holiday, private" },
    });
    expect(off.status).toBe(201);
    const offId = (await json<{ id: string }>(off)).id;
    const insertOff = (start: number, end: number) => {
      const id = `tof_${crypto.randomUUID()}`;
      return env.DB.prepare(
        "INSERT INTO tutorTimeOff (id, tutorProfileId, startTime, endTime, note, createdAt) VALUES (?, ?, ?, ?, NULL, ?)",
      )
        .bind(id, w.tutor.tutorProfileId, start, end, start)
        .run()
        .then(() => id);
    };
    await insertOff(now - 40 * DAY, now - 31 * DAY); // ended before the window
    const endingInWindow = await insertOff(now - 100 * DAY, now - 29 * DAY + 11 * DAY); // 82 days long

    const tutor = await readFeed(await feedUrl(w.tutor.token));
    const uids = tutor.events.map((e) => e.uid);
    expect(uids).toEqual(expect.arrayContaining([recent, w.sessionId, offId, endingInWindow]));
    expect(uids).not.toContain(old);
    expect(uids).toHaveLength(4);
    const timeOff = tutor.events.find((e) => e.uid === offId);
    expect(timeOff).toMatchObject({ summary: "Time off", transp: "OPAQUE", utc: true, start: slotAt(200) });
    expect(tutor.text).not.toContain("holiday");

    // the student sees the sessions, not the tutor's time off
    const student = await readFeed(await feedUrl(w.student.token));
    expect(student.events.map((e) => e.uid).sort()).toEqual([recent, w.sessionId].sort());
  });

  it("a busy past never crowds out what is to come (each window has its own cap)", async () => {
    const w = await world();
    const now = Date.now();
    // 501 lessons in the last 30 days: more than one window holds
    const rows = Array.from({ length: 501 }, (_, i) => now - 29 * DAY + i * HOUR);
    for (let i = 0; i < rows.length; i += 50) {
      await env.DB.batch(
        rows
          .slice(i, i + 50)
          .map((t) =>
            env.DB.prepare(
              "INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, createdAt, updatedAt) VALUES (?, ?, ?, NULL, ?, ?, 'completed', 1, ?, ?)",
            ).bind(`ses_${crypto.randomUUID()}`, w.tutor.tutorProfileId, "stu_other", t, t + HOUR, t, t),
          ),
      );
    }
    const feed = await readFeed(await feedUrl(w.tutor.token));
    const uids = feed.events.map((e) => e.uid);
    expect(uids).toContain(w.sessionId); // the upcoming lesson
    expect(uids).toHaveLength(501); // 500 past (the newest) + 1 upcoming
  });

  it("another user's feed never shows your sessions", async () => {
    const w = await world();
    const stranger = await createUser();
    const feed = await readFeed(await feedUrl(stranger.token));
    expect(feed.events).toEqual([]);
    expect(feed.text).not.toContain(w.sessionId);
  });
});

describe("closed account", () => {
  it("the feed is 404 and its row is deleted", async () => {
    const w = await world();
    const url = await feedUrl(w.student.token);
    const tutorUrl = await feedUrl(w.tutor.token);
    expect((await call("/v1/me", { method: "DELETE", token: w.student.token })).status).toBe(204);
    await expectProblem(await call(pathOf(url)), 404, "not_found");
    const row = await env.DB.prepare("SELECT userId FROM calendarFeeds WHERE userId = ?").bind(w.student.id).first();
    expect(row).toBeNull();
    // the tutor's feed shows the lesson cancelled by the closing, under the neutral name
    const [event] = (await readFeed(tutorUrl)).events;
    expect(event).toMatchObject({ uid: w.sessionId, status: "CANCELLED", summary: "Algebra with a student" });
  });
});
