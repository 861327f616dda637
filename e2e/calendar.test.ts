/**
 * The private calendar feed end to end: book → the feed URL shows the lesson (parsed with ical.js)
 * → polled with its ETag it answers 304 → a reschedule raises SEQUENCE under the same UID (and
 * changes the ETag) → a cancellation is CANCELLED → rotating the URL makes the old one 404, with no
 * token needed to read either.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import ICAL from "ical.js";
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import {
  adminEmail,
  c,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  type Subject,
  sdkAs,
  slotIn,
  type Tokens,
} from "./helpers.ts";

interface FeedEvent {
  uid: string;
  start: number;
  status: string;
  sequence: number;
}

/**
 * GETs the feed without a token (the URL is the secret) and reads its events with ical.js. On
 * `c.call`, not the SDK: the test reads the raw text/calendar bytes and their content type.
 */
async function feed(url: string): Promise<FeedEvent[]> {
  const r = await c.call(new URL(url).pathname);
  assert.equal(r.status, 200, r.text);
  etags.set(url, r.headers.get("etag") ?? "");
  assert.match(r.headers.get("content-type") ?? "", /^text\/calendar/);
  const calendar = new ICAL.Component(ICAL.parse(r.text));
  return calendar.getAllSubcomponents("vevent").map((v) => {
    const ev = new ICAL.Event(v);
    return {
      uid: ev.uid,
      start: ev.startDate.toJSDate().getTime(),
      status: String(v.getFirstPropertyValue("status")),
      sequence: ev.sequence,
    };
  });
}

/** The ETag of each URL's last feed read. */
const etags = new Map<string, string>();

/** The feed's status when asked with `If-None-Match: etag` (304: unchanged since that read). */
async function conditional(url: string, etag: string): Promise<number> {
  const r = await c.call(new URL(url).pathname, { headers: { "if-none-match": etag } });
  if (r.status === 304) assert.equal(r.headers.get("etag"), etag);
  return r.status;
}

const FEED_URL = /\/v1\/calendar\/([A-Za-z0-9_-]{43})\.ics$/;

describe("calendar feed", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("calendar"));
    subject = await newSubject(admin);
  });

  it("book → the feed shows it → reschedule raises SEQUENCE → cancel → rotate: the old URL is 404", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const s = await newStudent();
    await fund(admin, s.userId, 10);
    const first = slotIn(48);
    const asStudent = sdkAs(s.token);
    const booked = await asStudent.POST("/v1/sessions", {
      body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime: first, durationMinutes: 60 },
    });
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
    const id = unwrap(booked).id;

    const { url } = unwrap(await asStudent.GET("/v1/me/calendar"));
    assert.match(url, FEED_URL);
    assert.equal(unwrap(await asStudent.GET("/v1/me/calendar")).url, url);
    assert.deepEqual(await feed(url), [{ uid: id, start: first, status: "CONFIRMED", sequence: 0 }]);
    const tutorUrl = unwrap(await sdkAs(t.token).GET("/v1/me/calendar")).url;
    assert.deepEqual(
      (await feed(tutorUrl)).map((e) => e.uid),
      [id],
    );

    // a calendar app that polls with the ETag gets 304 until the feed changes
    const booked304 = etags.get(url) ?? "";
    assert.match(booked304, /^W\/"[0-9a-f]+"$/);
    assert.equal(await conditional(url, booked304), 304);

    const to = first + 3 * 3600_000;
    unwrap(
      await asStudent.POST("/v1/sessions/{id}/reschedule", {
        params: { path: { id }, header: idempotencyKey() },
        body: { startTime: to },
      }),
    );
    assert.equal(await conditional(url, booked304), 200);
    assert.deepEqual(await feed(url), [{ uid: id, start: to, status: "CONFIRMED", sequence: 1 }]);
    assert.notEqual(etags.get(url), booked304);

    unwrap(await asStudent.POST("/v1/sessions/{id}/cancel", { params: { path: { id } }, body: { reason: "e2e" } }));
    assert.deepEqual(await feed(tutorUrl), [{ uid: id, start: to, status: "CANCELLED", sequence: 2 }]);

    const rotated = unwrap(await asStudent.POST("/v1/me/calendar/rotate"));
    assert.notEqual(rotated.url, url);
    // the old feed, without a token: a problem, which the SDK reads as JSON
    const oldToken = FEED_URL.exec(url)?.[1];
    assert.ok(oldToken);
    expectProblemOf(
      await sdkAs().GET("/v1/calendar/{token}.ics", { params: { path: { token: oldToken } } }),
      404,
      "not_found",
    );
    assert.equal((await feed(rotated.url)).length, 1);
  });
});
