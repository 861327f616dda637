/**
 * The account lifecycle, black box: a student with a booked lesson exports their data, closes the
 * account (the tutor gets the cancellation, the credits come back to the closed ledger), and logging
 * in again with the same address gives a fresh, empty account. A tutor who closes disappears.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  type Session,
  type Subject,
  slotIn,
  type Tokens,
} from "./helpers.ts";

interface ExportDoc {
  format: string;
  user: { id: string; email: string; deletedAt: number | null };
  sessionsAsStudent: { id: string; status: string }[];
  ledger: { source: string; sessionId: string | null }[];
  notifications: { type: string }[];
  logins: unknown[];
  earnings: unknown[];
  payouts: unknown[];
  reviews: unknown[];
}

describe("account export, closing and a new login", () => {
  let admin: Tokens;
  let subject: Subject;
  before(async () => {
    admin = await c.login(adminEmail("account"));
    subject = await newSubject(admin);
  });

  it("exports, closes with the tutor told and the lesson refunded, and a re-login starts from zero", async () => {
    const tutor = await newTutor(admin, [subject.id], 3);
    const student = await newStudent();
    await fund(admin, student.userId, 10);
    const booked = await book(student, tutor, subject.id, slotIn(48), 60);
    assert.equal(booked.status, 201, booked.text);
    const session = booked.body;

    const exported = await c.call<ExportDoc>("/v1/me/export", { token: student.token });
    assert.equal(exported.status, 200, exported.text.slice(0, 300));
    assert.match(exported.headers.get("content-disposition") ?? "", /^attachment/);
    const doc = exported.body;
    assert.equal(doc.format, "tutorloop.export.v1");
    assert.equal(doc.user.email, student.email);
    assert.deepEqual(
      doc.sessionsAsStudent.map((s) => [s.id, s.status]),
      [[session.id, "scheduled"]],
    );
    assert.ok(doc.ledger.some((e) => e.source === "session_booking" && e.sessionId === session.id));
    assert.ok(doc.notifications.some((n) => n.type === "session_scheduled"));
    assert.equal(doc.logins.length, 1);
    assert.deepEqual([doc.earnings, doc.payouts, doc.reviews], [[], [], []]);
    for (const leak of [tutor.email, "tokenHash", "codeHash", "PassPhrase"]) {
      assert.ok(!exported.text.includes(leak), `the export contains ${leak}`);
    }

    const since = Date.now() - 1000;
    const closed = await c.call("/v1/me", { method: "DELETE", token: student.token });
    assert.equal(closed.status, 204, closed.text);

    // the tutor gets the cancellation, in-app and by e-mail; the lesson was refunded in full
    const seen = await c.ok<Session>(`/v1/sessions/${session.id}`, { token: tutor.token });
    assert.equal(seen.status, "cancelled");
    assert.equal(seen.refunded, true);
    await c.mail(tutor.email, /cancelled/i, since);
    const notes = await c.ok<{ items: { type: string; data: { sessionId?: string } }[] }>("/v1/notifications", {
      token: tutor.token,
    });
    assert.ok(notes.items.some((n) => n.type === "session_cancelled" && n.data.sessionId === session.id));

    // every token of the closed account is dead
    await expectProblem(await c.call("/v1/me", { token: student.token }), 401, "unauthorized");
    await expectProblem(await c.call("/v1/me/export", { token: student.token }), 401, "unauthorized");
    await expectProblem(
      await c.call("/v1/auth/refresh", { body: { refreshToken: student.tokens.refreshToken } }),
      401,
      "unauthorized",
    );
    const ledger = await c.ok<{ items: { source: string; balanceAfter: number }[] }>(
      `/v1/admin/users/${student.userId}/ledger`,
      { token: admin.accessToken },
    );
    assert.ok(
      ledger.items.some((e) => e.source === "session_refund"),
      "the refund is on the closed ledger",
    );

    // the same address again: a new, empty account
    const again = await c.login(student.email);
    assert.notEqual(again.user.id, student.userId);
    assert.equal((await c.ok<{ balance: number }>("/v1/credits/balance", { token: again.accessToken })).balance, 0);
    const fresh = await c.ok<ExportDoc>("/v1/me/export", { token: again.accessToken });
    assert.equal(fresh.user.email, student.email);
    assert.deepEqual([fresh.sessionsAsStudent, fresh.ledger], [[], []]);
  });

  it("a tutor who closes leaves the directory and every booked student is refunded", async () => {
    const tutor = await newTutor(admin, [subject.id], 2);
    const student = await newStudent();
    await fund(admin, student.userId, 6);
    const booked = await book(student, tutor, subject.id, slotIn(30), 60);
    assert.equal(booked.status, 201, booked.text);
    const listed = await c.ok<{ items: { id: string }[] }>(`/v1/tutors?subject=${subject.slug}&limit=100`);
    assert.ok(listed.items.some((t) => t.id === tutor.profileId));

    const since = Date.now() - 1000;
    assert.equal((await c.call("/v1/me", { method: "DELETE", token: tutor.token })).status, 204);
    await expectProblem(await c.call(`/v1/tutors/${tutor.profileId}`), 404, "not_found");
    const after = await c.ok<{ items: { id: string }[] }>(`/v1/tutors?subject=${subject.slug}&limit=100`);
    assert.ok(!after.items.some((t) => t.id === tutor.profileId));
    // the cancellations are done when DELETE answers
    assert.equal((await c.ok<{ balance: number }>("/v1/credits/balance", { token: student.token })).balance, 6);
    await c.mail(student.email, /cancelled/i, since);
  });
});
