/** GET /v1/me/export: everything stored about the caller, nothing of anyone else, no secrets. */
import { describe, expect, it } from "vitest";
import { newId } from "../../src/lib/crypto";
import { earnLate, enablePayouts, failPending, markPaid, startPayout } from "../earnings/payout-world";
import { call, createUser, env, expectProblem } from "../helpers/api";
import { createSubject, createTutor, fund } from "../sessions/helpers";
import { accountWorld, ledgerOf } from "./helpers";

type Row = Record<string, unknown>;
interface ExportDoc {
  format: string;
  exportedAt: number;
  user: Row;
  studentProfile: Row | null;
  tutorProfile: (Row & { subjectRefs: Row[]; availability: Row[]; bookingRules: Row | null; timeOff: Row[] }) | null;
  sessionsAsStudent: (Row & { recordings: Row[]; report: Row | null })[];
  sessionsAsTutor: (Row & { recordings: Row[]; report: Row | null })[];
  ledger: Row[];
  orders: (Row & { cardRefunds: Row[]; paymentEvents: Row[] })[];
  notifications: Row[];
  logins: Row[];
  loginCodes: Row[];
  adminActionsAboutYou: Row[];
  adminActionsByYou: Row[];
  earnings: Row[];
  payoutAccount: Row | null;
  payouts: Row[];
  seriesBooked: Row[];
  calendarFeed: Row | null;
  reviews: Row[];
}

async function exportOf(token: string): Promise<{ res: Response; text: string; doc: ExportDoc }> {
  const res = await call("/v1/me/export", { token });
  const text = await res.text();
  return { res, text, doc: JSON.parse(text) as ExportDoc };
}

const SECRETS = ["tokenHash", "codeHash", "callbackSecretHash", "PassPhrase", "secret-hash"];

describe("GET /v1/me/export", () => {
  it("is 401 without a token", async () => {
    await expectProblem(await call("/v1/me/export"), 401, "unauthorized");
  });

  it("holds the student's account, sessions, recordings, reports, ledger, orders, notifications and logins", async () => {
    const w = await accountWorld();
    const admin = await createUser("admin");
    await env.DB.prepare(
      "INSERT INTO adminAuditLog (id, actorUserId, action, targetType, targetId, details, createdAt) VALUES (?, ?, 'credits.adjust', 'user', ?, '{\"amount\":3}', ?)",
    )
      .bind(newId("aud"), admin.id, w.student.id, Date.now())
      .run();
    const { res, text, doc } = await exportOf(w.student.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(res.headers.get("cache-control")).toBe("no-store");

    expect(doc.format).toBe("tutorloop.export.v1");
    expect(doc.user).toMatchObject({ id: w.student.id, email: w.student.email, deletedAt: null });
    expect(doc.studentProfile).toMatchObject({ id: w.student.studentProfileId, userId: w.student.id });
    expect(doc.tutorProfile).toBeNull();

    const ids = doc.sessionsAsStudent.map((s) => s.id);
    expect(ids.sort()).toEqual([...w.future.map((s) => s.id), w.past.id].sort());
    expect(doc.sessionsAsTutor).toEqual([]);
    const past = doc.sessionsAsStudent.find((s) => s.id === w.past.id);
    expect(past?.recordings).toEqual([
      expect.objectContaining({ id: w.past.recordingId, transcriptionText: w.transcript }),
    ]);
    expect(past?.report).toMatchObject({ id: w.past.reportId, summary: "Fractions", rawTranscript: w.transcript });
    expect(doc.sessionsAsStudent.find((s) => s.id === w.future[0]?.id)).toMatchObject({
      recordings: [],
      report: null,
    });

    const ledger = await ledgerOf(w.student.id);
    expect(doc.ledger.map((e) => e.id)).toEqual(ledger.map((e) => e.id));
    expect(doc.orders).toEqual([
      expect.objectContaining({
        id: w.orderId,
        cardRefunds: [expect.objectContaining({ amountCents: 1000, status: "succeeded" })],
        paymentEvents: [expect.objectContaining({ id: `evt_${w.orderId}`, outcome: "credited" })],
      }),
    ]);
    expect(doc.orders[0]?.cardRefunds[0]).not.toHaveProperty("actorUserId");
    expect(doc.notifications.map((n) => n.type)).toContain("session_scheduled");
    expect(doc.logins).toHaveLength(1);
    expect(doc.logins[0]).toMatchObject({ revokedAt: null, rotatedAt: null });
    expect(doc.loginCodes.length).toBeGreaterThanOrEqual(2); // the login's code and the one still on file
    expect(doc.adminActionsAboutYou).toEqual([expect.objectContaining({ action: "credits.adjust" })]);
    expect(doc.adminActionsAboutYou[0]).not.toHaveProperty("actorUserId");
    expect(doc.adminActionsByYou).toEqual([]);
    expect(doc).toMatchObject({ earnings: [], payoutAccount: null, payouts: [], reviews: [] });

    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
    // nothing of the other student, who has a session with the same tutor
    for (const foreign of [w.other.id, w.other.email, w.other.studentProfileId, w.otherFuture.id, admin.id]) {
      expect(text, String(foreign)).not.toContain(String(foreign));
    }
  });

  it("holds the tutor's profile, subjects, availability and taught sessions, without the students' identities", async () => {
    const w = await accountWorld();
    // an earning of the tutor's (written raw: the settling step itself is tested in test/sessions)
    const earningId = newId("ern");
    await env.DB.prepare(
      `INSERT INTO earningsLedger (id, userId, seq, type, amountCents, balanceAfterCents, currency, source, sessionId, payoutId, description, idempotencyKey, createdAt)
       VALUES (?, ?, 1, 'credit', 1600, 1600, 'usd', 'session_earning', ?, NULL, 'Earning', ?, 0)`,
    )
      .bind(earningId, w.tutor.id, w.past.id, `earning:${w.past.id}`)
      .run();
    const { doc, text } = await exportOf(w.tutor.token);
    expect(doc.earnings).toEqual([expect.objectContaining({ id: earningId, amountCents: 1600, sessionId: w.past.id })]);
    expect(doc.tutorProfile).toMatchObject({
      id: w.tutor.tutorProfileId,
      status: "approved",
      subjectRefs: [expect.objectContaining({ id: w.subject.id })],
    });
    expect(doc.tutorProfile?.availability).toHaveLength(7);
    expect(doc.sessionsAsTutor.map((s) => s.id).sort()).toEqual(
      [...w.future.map((s) => s.id), w.past.id, w.otherFuture.id].sort(),
    );
    // a report draft is the tutor's (and in the tutor's export), not yet the student's
    await env.DB.prepare(
      "UPDATE lessonReports SET status = 'draft', publishedAt = NULL, autoPublishAt = ? WHERE id = ?",
    )
      .bind(Date.now() + 3_600_000, w.past.reportId)
      .run();
    const asTutor = (await exportOf(w.tutor.token)).doc.sessionsAsTutor.find((s) => s.id === w.past.id);
    expect(asTutor?.report).toMatchObject({ id: w.past.reportId, status: "draft" });
    const asStudent = (await exportOf(w.student.token)).doc.sessionsAsStudent.find((s) => s.id === w.past.id);
    expect(asStudent?.report).toBeNull();
    for (const foreign of [w.student.email, w.other.email, w.student.id, w.other.id]) {
      expect(text, foreign).not.toContain(foreign);
    }
    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
  });

  it("holds the tutor's booking rules and time off, the student's series and feed dates, never the feed's token", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id);
    const rules = {
      minNoticeMinutes: 0,
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 0,
      maxSessionsPerDay: 5,
      horizonDays: 365,
    };
    expect(
      (await call("/v1/me/tutor-profile/booking-rules", { method: "PUT", token: tutor.token, body: rules })).status,
    ).toBe(200);
    const day = Math.ceil((Date.now() + 3 * 86_400_000) / 86_400_000) * 86_400_000;
    const off = await call("/v1/me/tutor-profile/time-off", {
      token: tutor.token,
      body: { startTime: day, endTime: day + 3_600_000, note: "Away" },
    });
    expect(off.status).toBe(201);
    const student = await createUser("student");
    await fund(student, 10);
    const series = await call("/v1/sessions/series", {
      token: student.token,
      body: {
        tutorProfileId: tutor.tutorProfileId,
        subjectId: subject.id,
        startTime: day + 7_200_000,
        durationMinutes: 60,
        count: 2,
      },
    });
    expect(series.status).toBe(201);
    const { url } = (await (await call("/v1/me/calendar", { token: student.token })).json()) as { url: string };
    const tutorDoc = (await exportOf(tutor.token)).doc;
    expect(tutorDoc.tutorProfile?.bookingRules).toMatchObject(rules);
    expect(tutorDoc.tutorProfile?.timeOff).toEqual([expect.objectContaining({ startTime: day, note: "Away" })]);
    const { doc, text } = await exportOf(student.token);
    expect(doc.seriesBooked).toEqual([expect.objectContaining({ count: 2, firstStartTime: day + 7_200_000 })]);
    expect(doc.calendarFeed).toEqual({ createdAt: expect.any(Number), rotatedAt: null });
    const token = /calendar\/([^.]+)\.ics$/.exec(url)?.[1] ?? "missing";
    expect(text).not.toContain(token);
    expect(text).not.toContain("nonce");
  });

  it("holds the tutor's payout account and payouts, oldest first, and nobody else's", async () => {
    const subject = await createSubject();
    const student = await createUser("student");
    await fund(student, 8);
    const [tutor, rival] = [await createTutor(subject.id, { price: 2 }), await createTutor(subject.id, { price: 2 })];
    for (const t of [tutor, rival]) await enablePayouts(t.id, { details: true });
    await earnLate(student, tutor, subject.id, 72);
    const paid = await markPaid(tutor.id, (await startPayout(tutor.id, Date.now() - 2000)).id);
    await earnLate(student, tutor, subject.id, 74);
    const failed = await failPending(tutor.id, (await startPayout(tutor.id, Date.now() - 1000)).id);
    const pending = await startPayout(tutor.id);
    await earnLate(student, rival, subject.id, 76);
    const theirs = await startPayout(rival.id);

    const { doc, text } = await exportOf(tutor.token);
    expect(doc.payoutAccount).toEqual({
      accountId: `acct_test_${tutor.id}`,
      payoutsEnabled: true,
      detailsSubmitted: true,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect(doc.payouts.map((p) => [p.id, p.status, p.amountCents])).toEqual([
      [paid.id, "paid", 1600],
      [failed.id, "failed", 1600],
      [pending.id, "pending", 1600],
    ]);
    expect(doc.payouts[0]).toMatchObject({ stripeTransferId: `tr_${paid.id}`, currency: "usd", failureReason: null });
    expect(doc.payouts[1]).toMatchObject({ failureReason: "account_closed" });
    expect(doc.earnings.map((e) => e.source)).toEqual([
      "session_earning",
      "payout",
      "session_earning",
      "payout",
      "payout_reversal",
      "payout",
    ]);
    for (const foreign of [theirs.id, rival.id, `acct_test_${rival.id}`]) expect(text, foreign).not.toContain(foreign);
  });

  it("streams every row of a large account, page after page", async () => {
    const user = await createUser("student");
    const base = Date.now() - 1_000_000;
    const notificationCount = 1_234;
    const sessionCount = 250;
    const statements: D1PreparedStatement[] = [];
    for (let i = 0; i < notificationCount; i++) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO notifications (id, userId, type, data, read, createdAt) VALUES (?, ?, 'bulk', '{}', 0, ?)",
        ).bind(`ntf_bulk_${user.id}_${String(i).padStart(5, "0")}`, user.id, base + Math.floor(i / 3)),
      );
    }
    for (let i = 0; i < sessionCount; i++) {
      statements.push(
        env.DB.prepare(
          "INSERT INTO sessions (id, tutorProfileId, studentProfileId, startTime, endTime, status, creditsCost, createdAt, updatedAt) VALUES (?, 'tut_bulk', ?, ?, ?, 'completed', 1, ?, ?)",
        ).bind(
          `ses_bulk_${user.id}_${String(i).padStart(4, "0")}`,
          user.studentProfileId,
          base + i * 7,
          base + i * 7 + 1,
          base,
          base,
        ),
      );
    }
    for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
    const { doc } = await exportOf(user.token);
    expect(doc.notifications).toHaveLength(notificationCount);
    expect(new Set(doc.notifications.map((n) => n.id)).size).toBe(notificationCount);
    expect(doc.sessionsAsStudent).toHaveLength(sessionCount);
    const starts = doc.sessionsAsStudent.map((s) => s.startTime as number);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });
});

describe("an admin's own actions in the export", () => {
  it("say what kind and when, never on whom or with what (those rows are about other people)", async () => {
    const admin = await createUser("admin");
    const student = await createUser("student");
    const adjusted = await call("/v1/admin/credits/adjustments", {
      token: admin.token,
      body: { userId: student.id, type: "credit", amount: 3, description: "make-good for Quentin's lost lesson" },
    });
    expect(adjusted.status).toBe(201);
    const { text, doc } = await exportOf(admin.token);
    expect(doc.adminActionsByYou).toHaveLength(1);
    expect(doc.adminActionsByYou[0]).toMatchObject({ action: "credits.adjust", targetType: "user" });
    expect(doc.adminActionsByYou[0]).not.toHaveProperty("targetId");
    expect(doc.adminActionsByYou[0]).not.toHaveProperty("details");
    expect(text).not.toContain(student.id);
    expect(text).not.toContain("Quentin");
    // the student's own export names the action about them, with its details
    const theirs = await exportOf(student.token);
    expect(theirs.doc.adminActionsAboutYou[0]).toMatchObject({ action: "credits.adjust", targetId: student.id });
  });
});
