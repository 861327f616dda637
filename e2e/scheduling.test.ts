/**
 * Scheduling power end to end: a tutor in New York sets booking rules (buffers, a daily cap, a
 * horizon) and a time off → the slot list obeys them and booking agrees → a student books 12 weekly
 * lessons across New York's March DST change in one step, each at 17:00 local, one summary e-mail
 * → a colliding series is refused naming the occurrence, nothing debited → the series is cancelled.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import {
  adminEmail,
  balance,
  bookAs,
  c,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  type Subject,
  sdkAs,
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
    const asTutor = sdkAs(t.token);
    unwrap(
      await asTutor.PUT("/v1/me/tutor-profile/availability", {
        body: {
          timezone: ZONE,
          weekly: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "20:00" })),
        },
      }),
    );
    const rules = {
      minNoticeMinutes: 60,
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 15,
      maxSessionsPerDay: 2,
      horizonDays: 365,
    };
    assert.deepEqual(unwrap(await asTutor.PUT("/v1/me/tutor-profile/booking-rules", { body: rules })), rules);
    assert.deepEqual(unwrap(await asTutor.GET("/v1/me/tutor-profile/booking-rules")), rules);

    const s = await newStudent();
    await fund(admin, s.userId, 20);
    const ten = nextLocal(3, 10, 3); // a Wednesday, 10:00 New York
    const booked = await bookAs(s, t, subject.id, ten, 60);
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
    const first = unwrap(booked);

    // time off over that afternoon: the booked lesson stays, and is named
    const created = await asTutor.POST("/v1/me/tutor-profile/time-off", {
      body: { startTime: ten - HOUR, endTime: ten + 2 * HOUR, note: "Dentist" },
    });
    assert.equal(created.response.status, 201, JSON.stringify(created.error));
    const off = unwrap(created);
    assert.deepEqual(off.conflictingSessionIds, [first.id]);
    const listed = unwrap(await asTutor.GET("/v1/me/tutor-profile/time-off"));
    assert.deepEqual(
      listed.items.map((i) => i.id),
      [off.id],
    );

    const slots = unwrap(
      await sdkAs().GET("/v1/tutors/{id}/slots", {
        params: {
          path: { id: t.profileId },
          query: { from: ten - 2 * HOUR, to: ten + 10 * HOUR, durationMinutes: 60 },
        },
      }),
    );
    const starts = slots.items.map((x) => x.startTime);
    assert.ok(!starts.some((x) => x > ten - 2 * HOUR && x < ten + 2 * HOUR), "nothing overlaps the time off");
    assert.ok(starts.includes(ten - 2 * HOUR), "08:00-09:00 ends before the time off, an hour before the lesson");
    assert.ok(starts.includes(ten + 2 * HOUR), "bookable once the time off is over (an hour after the lesson)");
    const other = await newStudent();
    await fund(admin, other.userId, 20);
    expectProblemOf(await bookAs(other, t, subject.id, ten + HOUR, 60), 409, "slot_unavailable");
    // the second lesson of the day fits; the third passes the daily cap of 2, and slots show it
    const afterOff = starts.find((x) => x >= ten + 2 * HOUR);
    assert.ok(afterOff, "a slot after the time off");
    assert.equal((await bookAs(other, t, subject.id, afterOff, 60)).response.status, 201);
    const sameDay = unwrap(
      await sdkAs().GET("/v1/tutors/{id}/slots", {
        params: {
          path: { id: t.profileId },
          query: { from: afterOff + 2 * HOUR, to: ten + 10 * HOUR, durationMinutes: 60 },
        },
      }),
    );
    assert.equal(sameDay.items.length, 0, "the daily cap is reached");
    const third = await newStudent();
    await fund(admin, third.userId, 20);
    expectProblemOf(await bookAs(third, t, subject.id, ten + 8 * HOUR, 60), 409, "slot_unavailable");
    // removing the time off frees its hours again
    assert.equal(
      (await asTutor.DELETE("/v1/me/tutor-profile/time-off/{id}", { params: { path: { id: off.id } } })).response
        .status,
      204,
    );
  });

  it("books 12 weekly lessons across the DST change at 17:00 local, refuses a colliding series whole, cancels", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const asTutor = sdkAs(t.token);
    unwrap(
      await asTutor.PUT("/v1/me/tutor-profile/availability", {
        body: { timezone: ZONE, weekly: [{ weekday: 1, start: "16:00", end: "19:00" }] },
      }),
    );
    unwrap(
      await asTutor.PUT("/v1/me/tutor-profile/booking-rules", {
        body: {
          minNoticeMinutes: 0,
          bufferBeforeMinutes: 0,
          bufferAfterMinutes: 0,
          maxSessionsPerDay: null,
          horizonDays: 365,
        },
      }),
    );
    // the first Monday from which 12 weeks cross New York's next offset change
    let startTime = nextLocal(1, 17, 2);
    while (!offsetChanges(startTime, startTime + 11 * WEEK))
      startTime = nextLocal(1, 17, Math.round((startTime - Date.now()) / DAY) + 6);
    const s = await newStudent();
    await fund(admin, s.userId, 30);
    const since = Date.now();
    const res = await sdkAs(s.token).POST("/v1/sessions/series", {
      params: { header: idempotencyKey() },
      body: { tutorProfileId: t.profileId, subjectId: subject.id, startTime, durationMinutes: 60, count: 12 },
    });
    assert.equal(res.response.status, 201, JSON.stringify(res.error));
    const { seriesId, sessions } = unwrap(res);
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
    const ninth = sessions[8];
    assert.ok(ninth);
    const refused = expectProblemOf(
      await sdkAs(rival.token).POST("/v1/sessions/series", {
        body: {
          tutorProfileId: t.profileId,
          subjectId: subject.id,
          startTime: ninth.startTime,
          durationMinutes: 60,
          count: 4,
        },
      }),
      409,
      "slot_unavailable",
    );
    assert.deepEqual(
      refused.errors?.map((e) => e.path),
      ["occurrences[0]", "occurrences[1]", "occurrences[2]", "occurrences[3]"],
    );
    assert.equal(await balance(rival), 30);

    // each occurrence is an ordinary session: cancel one on its own, then the rest of the series
    const one = sessions[0];
    assert.ok(one);
    unwrap(await sdkAs(s.token).POST("/v1/sessions/{id}/cancel", { params: { path: { id: one.id } }, body: {} }));
    const cancelled = unwrap(
      await asTutor.POST("/v1/sessions/series/{id}/cancel", {
        params: { path: { id: seriesId } },
        body: { reason: "Term ends" },
      }),
    );
    assert.ok(cancelled.sessions.every((x) => x.status === "cancelled"));
    assert.equal(await balance(s), 30);
    expectProblemOf(
      await sdkAs(s.token).POST("/v1/sessions/series/{id}/cancel", { params: { path: { id: seriesId } }, body: {} }),
      409,
      "conflict",
    );
  });
});
