/**
 * Rescheduling a lesson end to end: book → the student moves it (the tutor is told in-app and by
 * e-mail, the slot list frees the old time and takes the new one) → the tutor moves it to the next
 * quarter → the room still works: the tutor starts it and both join.
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
  joinable,
  newStudent,
  newSubject,
  newTutor,
  nextQuarter,
  type Session,
  type Subject,
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
    const booked = await book(s, t, subject.id, first, 60);
    assert.equal(booked.status, 201, booked.text);
    const id = booked.body.id;

    const since = Date.now();
    const to = first + 3 * 3600_000;
    const moved = await c.ok<Session & { rescheduledAt: number | null }>(`/v1/sessions/${id}/reschedule`, {
      token: s.token,
      body: { startTime: to },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    assert.equal(moved.startTime, to);
    assert.equal(moved.endTime, to + 3600_000);
    assert.ok(moved.rescheduledAt);
    assert.equal(await balance(s), 8);

    const notes = await c.ok<{ items: { type: string; data: Record<string, unknown> }[] }>("/v1/notifications", {
      token: t.token,
    });
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

    const slots = await c.ok<{ items: { startTime: number }[] }>(
      `/v1/tutors/${t.profileId}/slots?from=${first}&to=${to + 3600_000}&durationMinutes=60`,
    );
    const starts = slots.items.map((x) => x.startTime);
    assert.ok(starts.includes(first), "the old time is free again");
    assert.ok(!starts.includes(to), "the new time is taken");

    // another student cannot take the new time; the old one is bookable again
    const other = await newStudent();
    await fund(admin, other.userId, 10);
    await expectProblem(await book(other, t, subject.id, to, 60), 409, "slot_unavailable");
    assert.equal((await book(other, t, subject.id, first, 60)).status, 201);

    // the tutor may move it until the start: to the next quarter, then it starts and both join
    const now = nextQuarter();
    const soon = await c.ok<Session>(`/v1/sessions/${id}/reschedule`, { token: t.token, body: { startTime: now } });
    assert.equal(soon.startTime, now);
    await c.mail(s.email, /was moved to/, since);
    await start(t, id);
    assert.equal((await joinable(t.token, id)).role, "host");
    assert.equal((await joinable(s.token, id)).role, "viewer");
    await expectProblem(
      await c.call(`/v1/sessions/${id}/reschedule`, { token: t.token, body: { startTime: slotIn(30) } }),
      409,
      "conflict",
    );
  });
});
