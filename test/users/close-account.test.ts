/**
 * DELETE /v1/me: future sessions cancelled with full refunds, the tutor hidden, tokens revoked,
 * personal data erased or pseudonymized, files deleted; the accounting stays.
 */
import { describe, expect, it } from "vitest";
import type { Auth } from "../../src/context";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { bookSession } from "../../src/modules/sessions/book";
import { login, refresh, waitForEmails } from "../auth/helpers";
import { call, createUser, env, eventually, expectProblem, json } from "../helpers/api";
import { balanceOf, book, createSubject, createTutor, fund, slotAt } from "../sessions/helpers";
import { PNG_WITH_METADATA } from "../tutors/images";
import { accountWorld, asTestUser, closeAccount, ledgerOf, sessionRow } from "./helpers";

/** Waits for `count` e-mails to `email` whose subject matches `subject`. */
async function mailsTo(email: string, subject: RegExp, count: number) {
  return eventually(async () => {
    const found = (await waitForEmails(email, 1)).filter((m) => subject.test(m.body.subject));
    return found.length >= count ? found : undefined;
  });
}

const notificationsOf = async (userId: string, type: string) =>
  (
    await env.DB.prepare("SELECT data FROM notifications WHERE userId = ? AND type = ?")
      .bind(userId, type)
      .all<{ data: string }>()
  ).results.map((r) => JSON.parse(r.data) as { sessionId: string; refunded: boolean; cancelledBy: string });

describe("DELETE /v1/me", () => {
  it("is 401 without a token", async () => {
    await expectProblem(await call("/v1/me", { method: "DELETE" }), 401, "unauthorized");
  });

  it("closes a student: full refunds, the tutor notified, tokens dead, personal data erased, accounting kept", async () => {
    const w = await accountWorld();
    const before = await balanceOf(w.student.token);
    const ledgerBefore = await ledgerOf(w.student.id);
    const res = await closeAccount(w.student.token);
    expect(res.status).toBe(204);

    // every future session cancelled as if by an admin, with a full refund (even the one inside the
    // student's cancellation window); the past lesson and the other student's session untouched
    for (const s of w.future) {
      expect(await sessionRow(s.id)).toMatchObject({
        status: "cancelled",
        cancelledBy: "admin",
        cancellationReason: "account_closed",
        refunded: 1,
      });
    }
    expect((await sessionRow(w.past.id))?.status).toBe("completed");
    expect((await sessionRow(w.otherFuture.id))?.status).toBe("scheduled");
    const ledgerAfter = await ledgerOf(w.student.id);
    const refunds = ledgerAfter.filter((e) => e.source === "session_refund");
    expect(refunds.map((e) => e.sessionId).sort()).toEqual(w.future.map((s) => s.id).sort());
    const cost = w.future.reduce((sum, s) => sum + s.creditsCost, 0);
    expect(ledgerAfter.at(-1)?.balanceAfter).toBe(before + cost);
    // the accounting stays, on the same user id
    expect(ledgerAfter.slice(0, ledgerBefore.length)).toEqual(ledgerBefore);
    expect(
      await env.DB.prepare("SELECT userId FROM creditPurchaseOrders WHERE id = ?").bind(w.orderId).first(),
    ).toEqual({ userId: w.student.id });
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM cardRefunds WHERE orderId = ?").bind(w.orderId).first(),
    ).toEqual({ n: 1 });

    // the tutor is told, in-app and by e-mail, as in a normal cancellation
    const told = await notificationsOf(w.tutor.id, "session_cancelled");
    expect(told.map((n) => n.sessionId).sort()).toEqual(w.future.map((s) => s.id).sort());
    expect(told.every((n) => n.refunded && n.cancelledBy === "admin")).toBe(true);
    expect(await mailsTo(w.tutor.email, /cancelled/i, 2)).toHaveLength(2);
    // the closing student's own address is not mailed (the e-mails of one cancellation go out together)
    expect((await waitForEmails(w.student.email, 1)).filter((m) => /cancelled/i.test(m.body.subject))).toEqual([]);

    // tokens: the access token is 401 at once, the refresh token is revoked
    await expectProblem(await call("/v1/me", { token: w.student.token }), 401, "unauthorized");
    await expectProblem(await call("/v1/me/export", { token: w.student.token }), 401, "unauthorized");
    await expectProblem(await closeAccount(w.student.token), 401, "unauthorized");
    await expectProblem(await refresh(w.student.refreshToken), 401, "unauthorized");
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM refreshTokens WHERE userId = ? AND revokedAt IS NULL")
        .bind(w.student.id)
        .first(),
    ).toEqual({ n: 0 });

    // personal data
    const user = await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(w.student.id).first();
    expect(user).toMatchObject({
      email: `deleted+${w.student.id}@deleted.invalid`,
      name: null,
      deletedAt: expect.any(Number),
    });
    expect(
      await env.DB.prepare("SELECT displayName FROM studentProfiles WHERE userId = ?").bind(w.student.id).first(),
    ).toEqual({ displayName: "Deleted user" });
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM otpCodes WHERE email = ?").bind(w.student.email).first(),
    ).toEqual({ n: 0 });
    const recording = await env.DB.prepare("SELECT * FROM sessionRecordings WHERE id = ?")
      .bind(w.past.recordingId)
      .first();
    expect(recording).toMatchObject({
      transcriptionText: null,
      callbackSecretHash: null,
      transcriptionError: expect.stringContaining("closed"),
    });
    expect(await env.BUCKET.head(w.past.s3Key)).toBeNull();
    expect(
      await env.DB.prepare("SELECT summary, rawTranscript FROM lessonReports WHERE id = ?")
        .bind(w.past.reportId)
        .first(),
    ).toEqual({ summary: "Fractions", rawTranscript: null });
    const webhook = await env.DB.prepare("SELECT payload FROM deepgramWebhooks WHERE id = ?")
      .bind(w.past.webhookId)
      .first<{ payload: string }>();
    expect(webhook?.payload).not.toContain(w.transcript);

    // the other student keeps everything
    expect(await balanceOf(w.other.token)).toBe(20 - w.otherFuture.creditsCost);
    expect((await call("/v1/me", { token: w.other.token })).status).toBe(200);

    // logging in again with the old address makes a new, empty account
    const again = asTestUser(await login(w.student.email));
    expect(again.id).not.toBe(w.student.id);
    expect(await balanceOf(again.token)).toBe(0);
    expect((await json<{ items: unknown[] }>(await call("/v1/sessions", { token: again.token }))).items).toEqual([]);
  });

  it("closes a tutor: sessions with every student cancelled and refunded, the profile suspended and erased", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 4 });
    const avatar = await call("/v1/me/tutor-profile/avatar", {
      method: "PUT",
      token: tutor.token,
      rawBody: PNG_WITH_METADATA,
      headers: { "content-type": "image/png" },
    });
    expect(avatar.status).toBe(200);
    const avatarKey = (
      await env.DB.prepare("SELECT avatarS3Key FROM tutorProfiles WHERE id = ?")
        .bind(tutor.tutorProfileId)
        .first<{ avatarS3Key: string }>()
    )?.avatarS3Key;
    expect(avatarKey).toBeTruthy();
    const students = [await createUser("student"), await createUser("student")];
    const bookings: { id: string; creditsCost: number }[] = [];
    for (const [i, s] of students.entries()) {
      await fund(s, 10);
      const r = await book(s, tutor, subject.id, slotAt(24 + i * 3), 60);
      expect(r.status).toBe(201);
      bookings.push(await json(r));
    }

    expect((await closeAccount(tutor.token)).status).toBe(204);

    for (const [i, s] of students.entries()) {
      expect(await balanceOf(s.token)).toBe(10);
      expect(await sessionRow(bookings[i]?.id ?? "")).toMatchObject({ status: "cancelled", refunded: 1 });
      expect((await notificationsOf(s.id, "session_cancelled")).map((n) => n.sessionId)).toEqual([bookings[i]?.id]);
      expect(await mailsTo(s.email, /cancelled/i, 1)).toHaveLength(1);
    }
    expect(
      await env.DB.prepare(
        "SELECT displayName, bio, avatarS3Key, avatarContentType, status, statusReason FROM tutorProfiles WHERE id = ?",
      )
        .bind(tutor.tutorProfileId)
        .first(),
    ).toEqual({
      displayName: "Deleted user",
      bio: "",
      avatarS3Key: null,
      avatarContentType: null,
      status: "suspended",
      statusReason: "account_closed",
    });
    expect(await env.BUCKET.head(avatarKey ?? "")).toBeNull();
    await expectProblem(await call(`/v1/tutors/${tutor.tutorProfileId}`), 404, "not_found");
  });

  it("refunds once when two DELETEs race", async () => {
    const w = await accountWorld();
    const before = await balanceOf(w.student.token);
    const statuses = (await Promise.all([closeAccount(w.student.token), closeAccount(w.student.token)])).map(
      (r) => r.status,
    );
    expect(statuses).toContain(204);
    for (const status of statuses) expect([204, 401]).toContain(status);
    const ledger = await ledgerOf(w.student.id);
    const refunds = ledger.filter((e) => e.source === "session_refund");
    expect(refunds).toHaveLength(w.future.length);
    expect(ledger.at(-1)?.balanceAfter).toBe(before + w.future.reduce((sum, s) => sum + s.creditsCost, 0));
    const user = await env.DB.prepare("SELECT email, deletedAt FROM users WHERE id = ?")
      .bind(w.student.id)
      .first<{ email: string; deletedAt: number }>();
    expect(user?.email).toBe(`deleted+${w.student.id}@deleted.invalid`);
    await eventually(async () => ((await env.BUCKET.head(w.past.s3Key)) === null ? true : undefined));
  });
});

describe("a booking racing the closing of an account", () => {
  /** The ledger, except that the account closes (or the tutor is suspended) right after a booking commits. */
  function ledgerThatCloses(after: string) {
    return new Proxy(env.CREDIT_LEDGER, {
      get(target, prop) {
        if (prop !== "get") {
          const value = Reflect.get(target, prop, target);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          return new Proxy(stub, {
            get(s, p) {
              if (p !== "bookSession") return Reflect.get(s, p, s);
              return async (input: Parameters<typeof stub.bookSession>[0]) => {
                const result = await stub.bookSession(input);
                await env.DB.prepare(after).bind(input.userId, input.claim.tutorProfileId).run();
                return result;
              };
            },
          });
        };
      },
    });
  }

  it.each([
    ["the student's account closed", "UPDATE users SET deletedAt = 1 WHERE id = ?1 AND ?2 IS NOT NULL", "unauthorized"],
    [
      "the tutor suspended",
      "UPDATE tutorProfiles SET status = 'suspended' WHERE id = ?2 AND ?1 IS NOT NULL",
      "not_found",
    ],
  ])("is undone with a full refund when %s between its checks and its commit", async (_what, after, code) => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 2 });
    const student = await createUser("student");
    await fund(student, 10);
    const svc = await jobContext({ ...env, CREDIT_LEDGER: ledgerThatCloses(after) } as Env, "test:race");
    const auth: Auth = {
      userId: student.id,
      role: "student",
      user: { ...student, name: null, createdAt: 0, updatedAt: 0 },
    };
    const attempt = bookSession(svc, auth, {
      tutorProfileId: tutor.tutorProfileId,
      subjectId: subject.id,
      startTime: slotAt(30),
      durationMinutes: 60,
    });
    await expect(attempt).rejects.toMatchObject({ code });
    const rows = (
      await env.DB.prepare("SELECT status, refunded FROM sessions WHERE studentProfileId = ?")
        .bind(student.studentProfileId)
        .all()
    ).results;
    expect(rows).toEqual([{ status: "cancelled", refunded: 1 }]);
    const ledger = await ledgerOf(student.id);
    expect(ledger.at(-1)?.balanceAfter).toBe(10);
  });
});
