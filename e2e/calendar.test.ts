/**
 * The private calendar feed end to end: book → the feed URL shows the lesson (parsed with ical.js)
 * → a reschedule raises SEQUENCE under the same UID → a cancellation is CANCELLED → rotating the
 * URL makes the old one 404, with no token needed to read either.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import ICAL from "ical.js";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  type Subject,
  slotIn,
  type Tokens,
} from "./helpers.ts";

interface FeedEvent {
  uid: string;
  start: number;
  status: string;
  sequence: number;
}

/** GETs the feed without a token (the URL is the secret) and reads its events with ical.js. */
async function feed(url: string): Promise<FeedEvent[]> {
  const r = await c.call(new URL(url).pathname);
  assert.equal(r.status, 200, r.text);
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
    const booked = await book(s, t, subject.id, first, 60);
    assert.equal(booked.status, 201, booked.text);
    const id = booked.body.id;

    const { url } = await c.ok<{ url: string }>("/v1/me/calendar", { token: s.token });
    assert.match(url, /\/v1\/calendar\/[A-Za-z0-9_-]{43}\.ics$/);
    assert.equal((await c.ok<{ url: string }>("/v1/me/calendar", { token: s.token })).url, url);
    assert.deepEqual(await feed(url), [{ uid: id, start: first, status: "CONFIRMED", sequence: 0 }]);
    const tutorUrl = (await c.ok<{ url: string }>("/v1/me/calendar", { token: t.token })).url;
    assert.deepEqual(
      (await feed(tutorUrl)).map((e) => e.uid),
      [id],
    );

    const to = first + 3 * 3600_000;
    await c.ok(`/v1/sessions/${id}/reschedule`, {
      token: s.token,
      body: { startTime: to },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    assert.deepEqual(await feed(url), [{ uid: id, start: to, status: "CONFIRMED", sequence: 1 }]);

    await c.ok(`/v1/sessions/${id}/cancel`, { token: s.token, body: { reason: "e2e" } });
    assert.deepEqual(await feed(tutorUrl), [{ uid: id, start: to, status: "CANCELLED", sequence: 2 }]);

    const rotated = await c.ok<{ url: string }>("/v1/me/calendar/rotate", { method: "POST", token: s.token });
    assert.notEqual(rotated.url, url);
    await expectProblem(await c.call(new URL(url).pathname), 404, "not_found");
    assert.equal((await feed(rotated.url)).length, 1);
  });
});
