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

describe("subjects, tutors, slots and bookings", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("book"));
    subject = await newSubject(admin);
  });

  it("publishes subjects, tutors and their slots", async () => {
    const t = await newTutor(admin, [subject.id], 4);
    const subjects = await c.ok<{ items: Subject[] }>("/v1/subjects");
    assert.ok(subjects.items.some((s) => s.id === subject.id));
    await expectProblem(
      await c.call("/v1/admin/subjects", { token: admin.accessToken, body: { name: "Dup", slug: subject.slug } }),
      409,
      "conflict",
    );
    const list = await c.ok<{ items: { id: string; hourlyCreditsPrice: number }[] }>(
      `/v1/tutors?subject=${subject.slug}`,
    );
    assert.ok(list.items.some((x) => x.id === t.profileId && x.hourlyCreditsPrice === 4));
    const one = await c.ok<{ id: string; subjects: { id: string }[] }>(`/v1/tutors/${t.profileId}`);
    assert.deepEqual(
      one.subjects.map((s) => s.id),
      [subject.id],
    );
    const from = slotIn(48);
    const slots = await c.ok<{ items: { startTime: number; endTime: number }[]; nextCursor: null }>(
      `/v1/tutors/${t.profileId}/slots?from=${from}&to=${from + 2 * 3600_000}&durationMinutes=60`,
    );
    assert.ok(slots.items.length >= 4);
    for (const s of slots.items) {
      assert.equal(s.startTime % (15 * 60_000), 0);
      assert.equal(s.endTime - s.startTime, 3600_000);
    }
    await expectProblem(
      await c.call(`/v1/tutors/${t.profileId}/slots?from=${from}&to=${from + 40 * 86400_000}&durationMinutes=60`),
      400,
      "validation_failed",
    );
    await expectProblem(await c.call("/v1/tutors/tut_missing"), 404, "not_found");
    // availability validation
    await expectProblem(
      await c.call("/v1/me/tutor-profile/availability", {
        method: "PUT",
        token: t.token,
        body: { timezone: "Mars/Olympus", weekly: [{ weekday: 1, start: "09:00", end: "10:00" }] },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await c.call("/v1/me/tutor-profile/availability", {
        method: "PUT",
        token: t.token,
        body: {
          timezone: "UTC",
          weekly: [
            { weekday: 1, start: "09:00", end: "11:00" },
            { weekday: 1, start: "10:00", end: "12:00" },
          ],
        },
      }),
      400,
      "validation_failed",
    );
  });

  it("debits ceil(price × minutes / 60), notifies both, and the booked slot disappears", async () => {
    const t = await newTutor(admin, [subject.id], 3);
    const s = await newStudent();
    await fund(admin, s.userId, 10);
    const at = slotIn(30);
    const r = await book(s, t, subject.id, at, 45);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status, "scheduled");
    assert.equal(r.body.creditsCost, 3); // ceil(3 × 45 / 60)
    assert.equal(await balance(s), 7);
    const slots = await c.ok<{ items: { startTime: number }[] }>(
      `/v1/tutors/${t.profileId}/slots?from=${at - 3600_000}&to=${at + 3600_000}&durationMinutes=30`,
    );
    assert.ok(!slots.items.some((x) => x.startTime >= at - 15 * 60_000 && x.startTime < at + 45 * 60_000));
    const mine = await c.ok<{ items: Session[] }>("/v1/sessions", { token: s.token });
    assert.deepEqual(
      mine.items.map((x) => x.id),
      [r.body.id],
    );
    const theirs = await c.ok<{ items: Session[] }>("/v1/sessions?as=tutor", { token: t.token });
    assert.deepEqual(
      theirs.items.map((x) => x.id),
      [r.body.id],
    );
    await c.mail(s.email, /./, 0);
    await c.mail(t.email, /./, 0);
  });

  it("concurrent bookings of one slot: exactly one 201, nobody else is charged", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const students = await Promise.all(Array.from({ length: 6 }, () => newStudent()));
    await Promise.all(students.map((s) => fund(admin, s.userId, 5)));
    const at = slotIn(72);
    const results = await Promise.all(students.map((s) => book(s, t, subject.id, at, 60)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], results.map((r) => r.text).join("\n"));
    for (const r of results.filter((x) => x.status === 409)) await expectProblem(r, 409, "slot_unavailable");
    const balances = await Promise.all(students.map(balance));
    assert.deepEqual(balances.sort(), [3, 5, 5, 5, 5, 5]);
    // and one student racing two overlapping sessions with two tutors
    const t2 = await newTutor(admin, [subject.id], 2);
    const s = students[results.findIndex((r) => r.status === 409)];
    assert.ok(s);
    const at2 = slotIn(96);
    const both = await Promise.all([book(s, t, subject.id, at2, 60), book(s, t2, subject.id, at2 + 15 * 60_000, 60)]);
    assert.deepEqual(both.map((r) => r.status).sort(), [201, 409]);
    assert.equal(await balance(s), 3);
  });

  it("Idempotency-Key replays a booking and refuses another body (422)", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const s = await newStudent();
    await fund(admin, s.userId, 10);
    const at = slotIn(120);
    const key = { "idempotency-key": `book-${Date.now()}` };
    const [a, b] = await Promise.all([
      book(s, t, subject.id, at, 60, { headers: key }),
      book(s, t, subject.id, at, 60, { headers: key }),
    ]);
    const ok = [a, b].filter((r) => r.status === 201);
    assert.ok(ok.length >= 1, `${a.status} ${b.status}`);
    for (const r of [a, b]) assert.ok(r.status === 201 || r.status === 409, `${r.status} ${r.text}`);
    const again = await book(s, t, subject.id, at, 60, { headers: key });
    assert.equal(again.status, 201);
    assert.equal(again.body.id, ok[0]?.body.id);
    await expectProblem(await book(s, t, subject.id, at, 90, { headers: key }), 422, "idempotency_conflict");
    assert.equal(await balance(s), 8);
  });

  it("refuses bad input (400), unaffordable (402) and unavailable (409) bookings", async () => {
    const t = await newTutor(admin, [subject.id], 50);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const other = await newSubject(admin);
    const at = slotIn(50);
    await expectProblem(await book(s, t, subject.id, at + 60_000, 60), 400, "validation_failed");
    await expectProblem(await book(s, t, subject.id, at, 20, { expectViolation: true }), 400, "validation_failed");
    await expectProblem(await book(s, t, subject.id, at, 200, { expectViolation: true }), 400, "validation_failed");
    await expectProblem(await book(s, t, other.id, at, 60), 400, "validation_failed");
    await expectProblem(
      await c.call("/v1/sessions", {
        token: s.token,
        body: {
          tutorProfileId: t.profileId,
          subjectId: subject.id,
          startTime: at,
          durationMinutes: 60,
          creditsCost: 0,
        },
        expectViolation: true,
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await c.call("/v1/sessions", {
        token: s.token,
        raw: "{not json",
        headers: { "content-type": "application/json" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(await book(s, t, subject.id, at, 60), 402, "insufficient_credits");
    const cheap = await newTutor(admin, [subject.id], 1);
    await expectProblem(await book(s, cheap, subject.id, slotIn(-2), 60), 409, "slot_unavailable");
    assert.equal(await balance(s), 5);
  });

  it("cancellation refunds by policy, exactly once", async () => {
    const t = await newTutor(admin, [subject.id], 2);
    const s = await newStudent();
    await fund(admin, s.userId, 10);
    // student, well ahead: refunded
    const early = (await book(s, t, subject.id, slotIn(30), 60)).body;
    const cancels = await Promise.all(
      Array.from({ length: 3 }, () =>
        c.call<Session>(`/v1/sessions/${early.id}/cancel`, { token: s.token, body: { reason: "changed plans" } }),
      ),
    );
    assert.equal(cancels.filter((r) => r.status === 200).length, 1, cancels.map((r) => r.status).join(","));
    for (const r of cancels.filter((x) => x.status !== 200)) await expectProblem(r, 409, "conflict");
    assert.equal(await balance(s), 10);
    // student, inside the window: no refund
    const late = (await book(s, t, subject.id, slotIn(2), 60)).body;
    const lateCancel = await c.ok<Session>(`/v1/sessions/${late.id}/cancel`, { token: s.token, body: {} });
    assert.equal(lateCancel.status, "cancelled");
    assert.equal(await balance(s), 8);
    // tutor, inside the window: full refund
    const third = (await book(s, t, subject.id, slotIn(3), 60)).body;
    await c.ok(`/v1/sessions/${third.id}/cancel`, { token: t.token, body: { reason: "ill" } });
    assert.equal(await balance(s), 8);
    const ledger = await c.ok<{ items: { source: string; sessionId: string | null }[] }>("/v1/credits/ledger", {
      token: s.token,
    });
    assert.equal(ledger.items.filter((e) => e.source === "session_refund").length, 2);
    const notes = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: s.token });
    assert.ok(notes.items.some((n) => n.type === "session_cancelled"));
    await expectProblem(await c.call(`/v1/sessions/${late.id}/join`, { token: s.token }), 409, "conflict");
  });

  it("join links after the room exists; start from 15 minutes before; complete", async () => {
    const t = await newTutor(admin, [subject.id], 1);
    const s = await newStudent();
    await fund(admin, s.userId, 5);
    const later = (await book(s, t, subject.id, slotIn(5), 60)).body;
    await expectProblem(
      await c.call(`/v1/sessions/${later.id}/start`, { method: "POST", token: t.token }),
      409,
      "conflict",
    );
    const now = (await book(s, t, subject.id, nextQuarter(), 60)).body;
    const viewer = await joinable(s.token, now.id);
    assert.equal(viewer.role, "viewer");
    const host = await joinable(t.token, now.id);
    assert.equal(host.role, "host");
    assert.notEqual(host.url, viewer.url);
    const page = await fetch(host.url);
    assert.equal(page.status, 200);
    const seen = await c.ok<Session>(`/v1/sessions/${now.id}`, { token: s.token });
    assert.equal(seen.videoSessionUrl, viewer.url);
    assert.ok(!JSON.stringify(seen).includes(host.url.split("/").pop() ?? "-"));
    await expectProblem(
      await c.call(`/v1/sessions/${now.id}/start`, { method: "POST", token: s.token }),
      403,
      "forbidden",
    );
    const started = await start(t, now.id);
    assert.equal(started.status, "in_progress");
    await expectProblem(
      await c.call(`/v1/sessions/${now.id}/start`, { method: "POST", token: t.token }),
      409,
      "conflict",
    );
    await expectProblem(await c.call(`/v1/sessions/${now.id}/cancel`, { token: s.token, body: {} }), 409, "conflict");
    const done = await c.ok<Session>(`/v1/sessions/${now.id}/complete`, { method: "POST", token: t.token });
    assert.equal(done.status, "completed");
    await expectProblem(
      await c.call(`/v1/sessions/${now.id}/complete`, { method: "POST", token: t.token }),
      409,
      "conflict",
    );
    await expectProblem(await c.call(`/v1/sessions/${now.id}/join`, { token: s.token }), 409, "conflict");
  });
});
