/** GET /v1/me/payouts, GET /v1/admin/payouts, POST /v1/admin/payouts/run: lists newest first, the manual run. */
import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { earn, newTutor, payoutOf, tutorWithAccount } from "./helpers";

interface PayoutItem {
  id: string;
  amountCents: number;
  currency: string;
  status: string;
  stripeTransferId: string | null;
  failureReason: string | null;
  createdAt: number;
  updatedAt: number;
  userId?: string;
  runId?: string;
}
type Page = { items: PayoutItem[]; nextCursor: string | null };

const pageOf = (path: string, token: string) => call(path, { token }).then((r) => json<Page>(r));

describe("GET /v1/me/payouts", () => {
  it("the tutor's own payouts, newest first, paged; another tutor never sees them", async () => {
    const tutor = await tutorWithAccount();
    const t0 = Date.now();
    const failed = await payoutOf(tutor, 3000, t0 - 3000, "failed");
    const paid = await payoutOf(tutor, 4000, t0 - 2000, "paid");
    const pending = await payoutOf(tutor, 2500, t0 - 1000);

    const first = await pageOf("/v1/me/payouts?limit=2", tutor.token);
    expect(first.items.map((p) => p.id)).toEqual([pending.id, paid.id]);
    expect(first.items[0]).toEqual({
      id: pending.id,
      amountCents: 2500,
      currency: "usd",
      status: "pending",
      stripeTransferId: null,
      failureReason: null,
      createdAt: t0 - 1000,
      updatedAt: t0 - 1000,
    });
    expect(first.items[1]).toMatchObject({ status: "paid", stripeTransferId: `tr_${paid.id}` });
    const rest = await pageOf(`/v1/me/payouts?limit=2&cursor=${first.nextCursor}`, tutor.token);
    expect(rest.items).toEqual([
      expect.objectContaining({ id: failed.id, status: "failed", failureReason: "refused in test" }),
    ]);
    expect(rest.nextCursor).toBeNull();

    const other = await tutorWithAccount();
    expect((await pageOf("/v1/me/payouts", other.token)).items).toEqual([]);
  });

  it("is for tutors only; bad paging input is 400", async () => {
    const tutor = await newTutor();
    await expectProblem(await call("/v1/me/payouts"), 401, "unauthorized");
    await expectProblem(await call("/v1/me/payouts", { token: (await createUser("student")).token }), 403, "forbidden");
    await expectProblem(await call("/v1/me/payouts", { token: (await createUser("admin")).token }), 403, "forbidden");
    await expectProblem(await call("/v1/me/payouts?limit=0", { token: tutor.token }), 400, "validation_failed");
    await expectProblem(await call("/v1/me/payouts?cursor=nope", { token: tutor.token }), 400, "validation_failed");
  });
});

describe("GET /v1/admin/payouts", () => {
  it("every payout newest first with userId and runId; ?status= filters; pages by cursor", async () => {
    const admin = await createUser("admin");
    const [a, b] = [await tutorWithAccount(), await tutorWithAccount()];
    // far in the future, so these are the newest payouts of the whole suite's database; each payout
    // takes the whole balance (a failed one gave its amount back)
    const t0 = Date.now() + 1_000_000_000;
    const aPaid = await payoutOf(a, 2100, t0, "paid");
    const bFailed = await payoutOf(b, 2200, t0 + 1, "failed");
    const aPending = await payoutOf(a, 2300, t0 + 2);
    const bPending = await payoutOf(b, 2400, t0 + 3);

    const all = await pageOf("/v1/admin/payouts?limit=3", admin.token);
    expect(all.items.map((p) => p.id)).toEqual([bPending.id, aPending.id, bFailed.id]);
    expect(all.items[0]).toMatchObject({ userId: b.id, runId: bPending.runId, amountCents: 4600, status: "pending" });
    const next = await pageOf(`/v1/admin/payouts?limit=3&cursor=${all.nextCursor}`, admin.token);
    expect(next.items[0]?.id).toBe(aPaid.id);

    const pending = await pageOf("/v1/admin/payouts?status=pending&limit=2", admin.token);
    expect(pending.items.map((p) => p.id)).toEqual([bPending.id, aPending.id]);
    const failed = await pageOf("/v1/admin/payouts?status=failed&limit=1", admin.token);
    expect(failed.items.map((p) => [p.id, p.status])).toEqual([[bFailed.id, "failed"]]);
    const paid = await pageOf("/v1/admin/payouts?status=paid&limit=1", admin.token);
    expect(paid.items.map((p) => p.id)).toEqual([aPaid.id]);
  });

  it("is for admins only; a bad status is 400", async () => {
    const admin = await createUser("admin");
    await expectProblem(await call("/v1/admin/payouts"), 401, "unauthorized");
    await expectProblem(await call("/v1/admin/payouts", { token: (await newTutor()).token }), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/payouts", { token: (await createUser("student")).token }),
      403,
      "forbidden",
    );
    await expectProblem(await call("/v1/admin/payouts?status=lost", { token: admin.token }), 400, "validation_failed");
    await expectProblem(await call("/v1/admin/payouts?status=", { token: admin.token }), 400, "validation_failed");
  });
});

describe("POST /v1/admin/payouts/run", () => {
  it("202 { runId, payouts, continuing }, writes the audit row; the same Idempotency-Key answers the first response", async () => {
    const admin = await createUser("admin");
    const tutor = await tutorWithAccount();
    await earn(tutor.id, 5000);
    const run = () =>
      call("/v1/admin/payouts/run", {
        method: "POST",
        token: admin.token,
        headers: { "idempotency-key": `run-${tutor.id}` },
      });
    const res = await run();
    expect(res.status).toBe(202);
    const body = await json<{ runId: string; payouts: number; continuing: boolean }>(res);
    expect(body).toEqual({
      runId: expect.stringMatching(/^prun/),
      payouts: expect.any(Number),
      continuing: expect.any(Boolean),
    });
    expect(body.payouts).toBeGreaterThanOrEqual(1);
    // (its status is the transfer job's business, which may already have run)
    const mine = await env.DB.prepare("SELECT runId, amountCents FROM payouts WHERE userId = ?")
      .bind(tutor.id)
      .all<{ runId: string; amountCents: number }>();
    expect(mine.results).toEqual([{ runId: body.runId, amountCents: 5000 }]);

    const audit = await env.DB.prepare("SELECT actorUserId, action, targetId FROM adminAuditLog WHERE targetId = ?")
      .bind(body.runId)
      .all();
    expect(audit.results).toEqual([{ actorUserId: admin.id, action: "payout.run", targetId: body.runId }]);

    const again = await run();
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual(body);
    const runs = await env.DB.prepare("SELECT COUNT(*) AS n FROM payoutRuns WHERE actorUserId = ?")
      .bind(admin.id)
      .first<{ n: number }>();
    expect(runs?.n).toBe(1);
  });

  it("is for admins only: anonymous 401, a tutor or a student 403", async () => {
    await expectProblem(await call("/v1/admin/payouts/run", { method: "POST" }), 401, "unauthorized");
    for (const who of [await newTutor(), await createUser("student")]) {
      await expectProblem(await call("/v1/admin/payouts/run", { method: "POST", token: who.token }), 403, "forbidden");
    }
  });
});
