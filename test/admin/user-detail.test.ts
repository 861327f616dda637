/** GET /v1/admin/users/:id: the user with profiles, credit balance, earnings balance, tutor status and payouts. */
import { describe, expect, it } from "vitest";
import { accountOf, earnLate, enablePayouts, markPaid, startPayout } from "../earnings/payout-world";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { book, createSubject, createTutor, fund, HOUR, slotAt } from "../sessions/helpers";

describe("GET /v1/admin/users/:id", () => {
  it("shows a tutor's earnings balance and status, and a student's credit balance", async () => {
    const admin = await createUser("admin");
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 2 });
    const student = await createUser("student");
    await fund(student, 5);
    const res = await book(student, tutor, subject.id, slotAt(72), 60);
    const { id } = await json<{ id: string }>(res);
    // a late cancel: the tutor earns 2 credits × 800 cents at once
    const late = slotAt(5);
    await env.DB.prepare("UPDATE sessions SET startTime = ?, endTime = ? WHERE id = ?")
      .bind(late, late + HOUR, id)
      .run();
    expect((await call(`/v1/sessions/${id}/cancel`, { token: student.token, body: {} })).status).toBe(200);

    const t = await json(await call(`/v1/admin/users/${tutor.id}`, { token: admin.token }));
    expect(t).toMatchObject({
      id: tutor.id,
      tutorProfileId: tutor.tutorProfileId,
      tutorProfile: { id: tutor.tutorProfileId, status: "approved", statusReason: null, hourlyCreditsPrice: 2 },
      earningsBalanceCents: 1600,
      balance: 0,
      payoutAccount: null,
      pendingPayoutCents: 0,
    });
    const s = await json(await call(`/v1/admin/users/${student.id}`, { token: admin.token }));
    expect(s).toMatchObject({
      id: student.id,
      tutorProfile: null,
      balance: 3,
      earningsBalanceCents: 0,
      payoutAccount: null,
      pendingPayoutCents: 0,
    });
    const sp = (s as { studentProfileId: string | null }).studentProfileId;
    expect(sp).toEqual(expect.any(String));
    expect((s as { studentProfile: unknown }).studentProfile).toEqual({ id: sp, displayName: expect.any(String) });
  });

  it("shows the tutor's payout account state and the cents of the payout pending", async () => {
    const admin = await createUser("admin");
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 2 });
    const student = await createUser("student");
    await fund(student, 4);
    await enablePayouts(tutor.id, { details: true });
    await earnLate(student, tutor, subject.id, 72);
    await markPaid(tutor.id, (await startPayout(tutor.id)).id);
    await earnLate(student, tutor, subject.id, 74);
    const detail = () => call(`/v1/admin/users/${tutor.id}`, { token: admin.token }).then((r) => json(r));
    const account = { accountId: accountOf(tutor.id), payoutsEnabled: true, detailsSubmitted: true };
    // paid payouts are not pending; the new earning is available
    expect(await detail()).toMatchObject({ payoutAccount: account, pendingPayoutCents: 0, earningsBalanceCents: 1600 });
    await startPayout(tutor.id);
    expect(await detail()).toMatchObject({ payoutAccount: account, pendingPayoutCents: 1600, earningsBalanceCents: 0 });
    await env.DB.prepare("UPDATE payoutAccounts SET payoutsEnabled = 0 WHERE userId = ?").bind(tutor.id).run();
    expect(await detail()).toMatchObject({ payoutAccount: { ...account, payoutsEnabled: false } });
  });

  it("is 404 for an unknown user and admin-only", async () => {
    const admin = await createUser("admin");
    const student = await createUser("student");
    await expectProblem(await call("/v1/admin/users/usr_unknown", { token: admin.token }), 404, "not_found");
    await expectProblem(await call(`/v1/admin/users/${student.id}`, { token: student.token }), 403, "forbidden");
    await expectProblem(await call(`/v1/admin/users/${student.id}`), 401, "unauthorized");
  });
});
