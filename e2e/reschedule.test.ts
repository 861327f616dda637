/**
 * Rescheduling a lesson end to end: book → the student moves it (the tutor is told in-app and by
 * e-mail, the slot list frees the old time and takes the new one) → the tutor moves it to the next
 * quarter → the room still works: the tutor starts it and both join.
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
  joinable,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  type Subject,
  sdkAs,
  slotIn,
  start,
  type Tokens,
} from "./helpers.ts";

describe("rescheduling", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("resched"));
    subject = await newSubject(admin);
  });

  it("book → reschedule → the tutor is told → slots follow → the room still works", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const s = await newStudent();
    await fund(admin, s.userId, 10);
    const first = slotIn(48);
    const booked = await bookAs(s, t, subject.id, first, 60);
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
    const id = unwrap(booked).id;

    const since = Date.now();
    const to = first + 3 * 3600_000;
    const moved = unwrap(
      await sdkAs(s.token).POST("/v1/sessions/{id}/reschedule", {
        params: { path: { id }, header: idempotencyKey() },
        body: { startTime: to },
      }),
    );
    assert.equal(moved.startTime, to);
    assert.equal(moved.endTime, to + 3600_000);
    assert.ok(moved.rescheduledAt);
    assert.equal(await balance(s), 8);

    const notes = unwrap(await sdkAs(t.token).GET("/v1/notifications"));
    const note = notes.items.find((n) => n.type === "session_rescheduled");
    assert.deepEqual(note?.data, {
      sessionId: id,
      previousStartTime: first,
      startTime: to,
      endTime: to + 3600_000,
      rescheduledBy: "student",
    });
    const mail = await c.mail(t.email, /was moved to/, since);
    assert.ok(!mail.text?.includes(s.email), "the student's address is never shown to the tutor");

    const slots = unwrap(
      await sdkAs().GET("/v1/tutors/{id}/slots", {
        params: { path: { id: t.profileId }, query: { from: first, to: to + 3600_000, durationMinutes: 60 } },
      }),
    );
    const starts = slots.items.map((x) => x.startTime);
    assert.ok(starts.includes(first), "the old time is free again");
    assert.ok(!starts.includes(to), "the new time is taken");

    // another student cannot take the new time; the old one is bookable again
    const other = await newStudent();
    await fund(admin, other.userId, 10);
    expectProblemOf(await bookAs(other, t, subject.id, to, 60), 409, "slot_unavailable");
    assert.equal((await bookAs(other, t, subject.id, first, 60)).response.status, 201);

    // the tutor may move it until the start: to the next quarter, then it starts and both join
    const now = nextQuarter();
    const soon = unwrap(
      await sdkAs(t.token).POST("/v1/sessions/{id}/reschedule", { params: { path: { id } }, body: { startTime: now } }),
    );
    assert.equal(soon.startTime, now);
    await c.mail(s.email, /was moved to/, since);
    await start(t, id);
    assert.equal((await joinable(t.token, id)).role, "host");
    assert.equal((await joinable(s.token, id)).role, "viewer");
    expectProblemOf(
      await sdkAs(t.token).POST("/v1/sessions/{id}/reschedule", {
        params: { path: { id } },
        body: { startTime: slotIn(30) },
      }),
      409,
      "conflict",
    );
  });
});
