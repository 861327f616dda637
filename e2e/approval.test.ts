/**
 * Tutor approval, black box on `wrangler dev` with the default TUTOR_APPROVAL_REQUIRED=true: a new
 * tutor is pending (unlisted, its page, slots and booking 404), an admin finds it in the pending
 * queue and approves it, the tutor is told in-app and by e-mail, then it is listed and bookable;
 * suspending hides it again while the booked lesson stays.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { unwrap } from "../sdk/src/index.ts";
import { ALL_WEEK } from "../tools/offline/client.ts";
import {
  adminEmail,
  bookAs,
  c,
  email,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  rand,
  type Subject,
  sdkAs,
  setTutorStatus,
  slotIn,
  type Tokens,
} from "./helpers.ts";

const listed = async (slug: string, id: string) =>
  unwrap(await sdkAs().GET("/v1/tutors", { params: { query: { subject: slug, limit: 100 } } })).items.some(
    (t) => t.id === id,
  );

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
    const applied = await sdkAs(first.accessToken).POST("/v1/me/tutor-profile", {
      body: { displayName: `Pending ${rand()}`, bio: "New.", subjectIds: [subject.id], hourlyCreditsPrice: 1 },
    });
    assert.equal(applied.response.status, 201, JSON.stringify(applied.error));
    const created = unwrap(applied);
    assert.equal(created.status, "pending");
    const tutor: Tokens = unwrap(await sdkAs(first.accessToken).POST("/v1/me/context", { body: { context: "tutor" } }));
    const asTutor = sdkAs(tutor.accessToken);
    unwrap(await asTutor.PUT("/v1/me/tutor-profile/availability", { body: ALL_WEEK }));
    const id = created.id;

    const student = await newStudent();
    await fund(admin, student.userId, 10);
    const t = { profileId: id };
    const from = slotIn(24);
    const anonymous = sdkAs();
    assert.equal(await listed(subject.slug, id), false);
    expectProblemOf(await anonymous.GET("/v1/tutors/{id}", { params: { path: { id } } }), 404, "not_found");
    expectProblemOf(
      await anonymous.GET("/v1/tutors/{id}/slots", {
        params: { path: { id }, query: { from, to: from + 3600_000 } },
      }),
      404,
      "not_found",
    );
    expectProblemOf(await bookAs(student, t, subject.id, slotIn(30)), 404, "not_found");
    // the tutor sees their own page and status
    assert.equal((await asTutor.GET("/v1/tutors/{id}", { params: { path: { id } } })).response.status, 200);

    const queue = unwrap(
      await sdkAs(admin.accessToken).GET("/v1/admin/tutors", { params: { query: { status: "pending", limit: 100 } } }),
    );
    assert.ok(queue.items.some((p) => p.id === id && p.status === "pending"));

    const since = Date.now() - 1000;
    const approved = await setTutorStatus(admin, id, "approved");
    assert.equal(approved.status, "approved");
    const notes = unwrap(await asTutor.GET("/v1/notifications"));
    assert.deepEqual(notes.items.find((n) => n.type === "tutor_status_changed")?.data, {
      tutorProfileId: id,
      status: "approved",
      reason: null,
    });
    await c.mail(mail, /Students can now find you/, since);

    assert.equal(await listed(subject.slug, id), true);
    assert.equal((await anonymous.GET("/v1/tutors/{id}", { params: { path: { id } } })).response.status, 200);
    const booked = await bookAs(student, t, subject.id, slotIn(30));
    assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
    const bookedId = unwrap(booked).id;

    const suspended = await setTutorStatus(admin, id, "suspended", "Paused for review");
    assert.deepEqual([suspended.status, suspended.statusReason], ["suspended", "Paused for review"]);
    assert.equal(await listed(subject.slug, id), false);
    expectProblemOf(await bookAs(student, t, subject.id, slotIn(34)), 404, "not_found");
    await c.mail(mail, /Paused for review/, since);
    // the lesson booked before stays booked
    const lesson = unwrap(await sdkAs(student.token).GET("/v1/sessions/{id}", { params: { path: { id: bookedId } } }));
    assert.equal(lesson.status, "scheduled");
  });
});
