/**
 * Tutor approval, black box on `wrangler dev` with the default TUTOR_APPROVAL_REQUIRED=true: a new
 * tutor is pending (unlisted, its page, slots and booking 404), an admin finds it in the pending
 * queue and approves it, the tutor is told in-app and by e-mail, then it is listed and bookable;
 * suspending hides it again while the booked lesson stays.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ALL_WEEK } from "../tools/offline/client.ts";
import {
  adminEmail,
  book,
  c,
  email,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  rand,
  type Session,
  type Subject,
  setTutorStatus,
  slotIn,
  type Tokens,
} from "./helpers.ts";

const listed = async (slug: string, id: string) =>
  (await c.ok<{ items: { id: string }[] }>(`/v1/tutors?subject=${slug}&limit=100`)).items.some((t) => t.id === id);

describe("tutor approval", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("approval"));
    subject = await newSubject(admin);
  });

  it("pending until an admin approves it (notified in-app and by e-mail); suspending hides it again", async () => {
    const mail = email("pending");
    const first = await c.login(mail);
    const created = await c.ok<{ id: string; status: string }>(
      "/v1/me/tutor-profile",
      {
        token: first.accessToken,
        body: { displayName: `Pending ${rand()}`, bio: "New.", subjectIds: [subject.id], hourlyCreditsPrice: 1 },
      },
      201,
    );
    assert.equal(created.status, "pending");
    const tutor = await c.ok<Tokens>("/v1/me/context", { token: first.accessToken, body: { context: "tutor" } });
    await c.ok("/v1/me/tutor-profile/availability", { method: "PUT", token: tutor.accessToken, body: ALL_WEEK });
    const id = created.id;

    const student = await newStudent();
    await fund(admin, student.userId, 10);
    const t = { profileId: id } as Parameters<typeof book>[1];
    const from = slotIn(24);
    assert.equal(await listed(subject.slug, id), false);
    await expectProblem(await c.call(`/v1/tutors/${id}`), 404, "not_found");
    await expectProblem(await c.call(`/v1/tutors/${id}/slots?from=${from}&to=${from + 3600_000}`), 404, "not_found");
    await expectProblem(await book(student, t, subject.id, slotIn(30)), 404, "not_found");
    // the tutor sees their own page and status
    assert.equal((await c.call(`/v1/tutors/${id}`, { token: tutor.accessToken })).status, 200);

    const queue = await c.ok<{ items: { id: string; status: string }[] }>("/v1/admin/tutors?status=pending&limit=100", {
      token: admin.accessToken,
    });
    assert.ok(queue.items.some((p) => p.id === id && p.status === "pending"));

    const since = Date.now() - 1000;
    const approved = await setTutorStatus(admin, id, "approved");
    assert.equal(approved.status, "approved");
    const notes = await c.ok<{ items: { type: string; data: Record<string, unknown> }[] }>("/v1/notifications", {
      token: tutor.accessToken,
    });
    assert.deepEqual(notes.items.find((n) => n.type === "tutor_status_changed")?.data, {
      tutorProfileId: id,
      status: "approved",
      reason: null,
    });
    await c.mail(mail, /Students can now find you/, since);

    assert.equal(await listed(subject.slug, id), true);
    assert.equal((await c.call(`/v1/tutors/${id}`)).status, 200);
    const booked = await book(student, t, subject.id, slotIn(30));
    assert.equal(booked.status, 201, booked.text);

    const suspended = await setTutorStatus(admin, id, "suspended", "Paused for review");
    assert.deepEqual([suspended.status, suspended.statusReason], ["suspended", "Paused for review"]);
    assert.equal(await listed(subject.slug, id), false);
    await expectProblem(await book(student, t, subject.id, slotIn(34)), 404, "not_found");
    await c.mail(mail, /Paused for review/, since);
    // the lesson booked before stays booked
    const lesson = await c.ok<Session>(`/v1/sessions/${booked.body.id}`, { token: student.token });
    assert.equal(lesson.status, "scheduled");
  });
});
