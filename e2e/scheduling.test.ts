/**
 * Scheduling power end to end: a tutor in New York sets booking rules (buffers, a daily cap, a
 * horizon) and a time off → the slot list obeys them and booking agrees → a student books 12 weekly
 * lessons across New York's March DST change in one step, each at 17:00 local, one summary e-mail
 * → a colliding series is refused naming the occurrence, nothing debited → the series is cancelled.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  adminEmail,
  balance,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  type Session,
  type Subject,
  type Tokens,
} from "./helpers.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const ZONE = "America/New_York";

const localClock = (ms: number) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, weekday: "short", hour: "2-digit", minute: "2-digit" }).format(ms);

/** The UTC instant of the next `weekday` (0 = Sunday) at `hour`:00 New York time at least `minDays` ahead. */
function nextLocal(weekday: number, hour: number, minDays: number): number {
  for (let d = minDays; d < minDays + 14; d++) {
    const day = new Date(Date.now() + d * DAY);
    // try both offsets New York uses; keep the one that reads `hour`:00 there
    for (const offset of [4, 5]) {
      const t = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour + offset);
      const parts = localClock(t);
      const wd = new Date(t - offset * HOUR).getUTCDay();
      if (wd === weekday && parts.endsWith(`${String(hour).padStart(2, "0")}:00`)) return t;
    }
  }
  throw new Error("no such day");
}

/** True when New York changes its offset between `a` and `b`. */
const offsetChanges = (a: number, b: number) =>
  new Intl.DateTimeFormat("en-US", { timeZone: ZONE, timeZoneName: "short" }).format(a).slice(-3) !==
  new Intl.DateTimeFormat("en-US", { timeZone: ZONE, timeZoneName: "short" }).format(b).slice(-3);

describe("scheduling: rules, time off, weekly series", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("sched"));
    subject = await newSubject(admin);
  });

  it("rules and time off shape the slots; booking agrees", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    await c.ok("/v1/me/tutor-profile/availability", {
      method: "PUT",
      token: t.token,
      body: {
        timezone: ZONE,
        weekly: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "20:00" })),
      },
    });
    const rules = {
      minNoticeMinutes: 60,
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 15,
      maxSessionsPerDay: 2,
      horizonDays: 365,
    };
    assert.deepEqual(
      await c.ok("/v1/me/tutor-profile/booking-rules", { method: "PUT", token: t.token, body: rules }),
      rules,
    );
    assert.deepEqual(await c.ok("/v1/me/tutor-profile/booking-rules", { token: t.token }), rules);

    const s = await newStudent();
    await fund(admin, s.userId, 20);
    const ten = nextLocal(3, 10, 3); // a Wednesday, 10:00 New York
    const first = await book(s, t, subject.id, ten, 60);
    assert.equal(first.status, 201, first.text);

    // time off over that afternoon: the booked lesson stays, and is named
    const off = await c.ok<{ id: string; conflictingSessionIds: string[] }>(
      "/v1/me/tutor-profile/time-off",
      { token: t.token, body: { startTime: ten - HOUR, endTime: ten + 2 * HOUR, note: "Dentist" } },
      201,
    );
    assert.deepEqual(off.conflictingSessionIds, [first.body.id]);
    const listed = await c.ok<{ items: { id: string }[] }>("/v1/me/tutor-profile/time-off", { token: t.token });
    assert.deepEqual(
      listed.items.map((i) => i.id),
      [off.id],
    );

    const slots = await c.ok<{ items: { startTime: number }[] }>(
      `/v1/tutors/${t.profileId}/slots?from=${ten - 2 * HOUR}&to=${ten + 10 * HOUR}&durationMinutes=60`,
    );
    const starts = slots.items.map((x) => x.startTime);
    assert.ok(!starts.some((x) => x > ten - 2 * HOUR && x < ten + 2 * HOUR), "nothing overlaps the time off");
    assert.ok(starts.includes(ten - 2 * HOUR), "08:00-09:00 ends before the time off, an hour before the lesson");
    assert.ok(starts.includes(ten + 2 * HOUR), "bookable once the time off is over (an hour after the lesson)");
    const other = await newStudent();
    await fund(admin, other.userId, 20);
    await expectProblem(await book(other, t, subject.id, ten + HOUR, 60), 409, "slot_unavailable");
    // the second lesson of the day fits; the third passes the daily cap of 2, and slots show it
    const afterOff = starts.find((x) => x >= ten + 2 * HOUR);
    assert.ok(afterOff, "a slot after the time off");
    assert.equal((await book(other, t, subject.id, afterOff, 60)).status, 201);
    const sameDay = await c.ok<{ items: unknown[] }>(
      `/v1/tutors/${t.profileId}/slots?from=${afterOff + 2 * HOUR}&to=${ten + 10 * HOUR}&durationMinutes=60`,
    );
    assert.equal(sameDay.items.length, 0, "the daily cap is reached");
    const third = await newStudent();
    await fund(admin, third.userId, 20);
    await expectProblem(await book(third, t, subject.id, ten + 8 * HOUR, 60), 409, "slot_unavailable");
    // removing the time off frees its hours again
    assert.equal(
      (await c.call(`/v1/me/tutor-profile/time-off/${off.id}`, { method: "DELETE", token: t.token })).status,
      204,
    );
  });

  it("books 12 weekly lessons across the DST change at 17:00 local, refuses a colliding series whole, cancels", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    await c.ok("/v1/me/tutor-profile/availability", {
      method: "PUT",
      token: t.token,
      body: { timezone: ZONE, weekly: [{ weekday: 1, start: "16:00", end: "19:00" }] },
    });
    await c.ok("/v1/me/tutor-profile/booking-rules", {
      method: "PUT",
      token: t.token,
      body: {
        minNoticeMinutes: 0,
        bufferBeforeMinutes: 0,
        bufferAfterMinutes: 0,
        maxSessionsPerDay: null,
        horizonDays: 365,
      },
    });
    // the first Monday from which 12 weeks cross New York's next offset change
    let startTime = nextLocal(1, 17, 2);
    while (!offsetChanges(startTime, startTime + 11 * WEEK))
      startTime = nextLocal(1, 17, Math.round((startTime - Date.now()) / DAY) + 6);
    const s = await newStudent();
    await fund(admin, s.userId, 30);
    const since = Date.now();
    const res = await c.call<{ seriesId: string; sessions: (Session & { seriesId: string })[] }>(
      "/v1/sessions/series",
      {
        token: s.token,
        body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime, durationMinutes: 60, count: 12 },
        headers: { "idempotency-key": crypto.randomUUID() },
      },
    );
    assert.equal(res.status, 201, res.text);
    const { seriesId, sessions } = res.body;
    assert.equal(sessions.length, 12);
    for (const x of sessions) {
      assert.equal(localClock(x.startTime), "Mon 17:00");
      assert.equal(x.seriesId, seriesId);
    }
    const utcHours = new Set(sessions.map((x) => new Date(x.startTime).getUTCHours()));
    assert.equal(utcHours.size, 2, "the UTC time moves with the offset");
    assert.equal(await balance(s), 30 - 24);
    const mail = await c.mail(s.email, /Your weekly sessions with/, since);
    assert.ok(mail.subject?.startsWith("12 weekly sessions"));

    // another student's series of 4 from the same first Monday collides at once: nothing booked
    const rival = await newStudent();
    await fund(admin, rival.userId, 30);
    const refused = await c.call<{ code: string; errors: { path: string }[] }>("/v1/sessions/series", {
      token: rival.token,
      body: {
        tutorProfileId: t.profileId,
        subjectId: subject.id,
        startTime: sessions[8]?.startTime,
        durationMinutes: 60,
        count: 4,
      },
    });
    await expectProblem(refused, 409, "slot_unavailable");
    assert.deepEqual(
      refused.body.errors.map((e) => e.path),
      ["occurrences[0]", "occurrences[1]", "occurrences[2]", "occurrences[3]"],
    );
    assert.equal(await balance(rival), 30);

    // each occurrence is an ordinary session: cancel one on its own, then the rest of the series
    const one = sessions[0];
    assert.ok(one);
    await c.ok(`/v1/sessions/${one.id}/cancel`, { token: s.token, body: {} });
    const cancelled = await c.ok<{ sessions: Session[] }>(`/v1/sessions/series/${seriesId}/cancel`, {
      token: t.token,
      body: { reason: "Term ends" },
    });
    assert.ok(cancelled.sessions.every((x) => x.status === "cancelled"));
    assert.equal(await balance(s), 30);
    await expectProblem(
      await c.call(`/v1/sessions/series/${seriesId}/cancel`, { token: s.token, body: {} }),
      409,
      "conflict",
    );
  });
});
