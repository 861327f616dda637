/**
 * The transfer job and reversals: a job delivered twice (or at once) transfers once; a refusal fails
 * the payout with one reversal and the next run pays again; a transient error retries and leaves the
 * payout pending; a replay after Stripe forgot the key finds the first transfer; `transfer.reversed`
 * replayed three times reverses once.
 */
import { describe, expect, it } from "vitest";
import { runPayouts } from "../../src/modules/payouts/run";
import { applyTransferReversed, transferPayoutJob } from "../../src/modules/payouts/transfer";
import { ProviderError } from "../../src/providers/errors";
import type { StripeEvent } from "../../src/providers/stripe";
import { onRetriesExhausted } from "../../src/queues/handlers";
import { createUser, env, failNext, fakeRequests } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { earningsBalance, payoutsOf, payoutTutor, recordingSvc, refuseTransfers, transfersOf } from "./helpers";

const admin = { kind: "admin" as const, actorUserId: "usr_admin_test" };

async function pendingPayout(cents: number) {
  const t = await payoutTutor(cents);
  const { svc, sent } = await recordingSvc();
  await runPayouts(svc, admin);
  const [p] = await payoutsOf(t.id);
  const job = transfersOf(sent).find((m) => m.payoutId === p?.id);
  if (!p || !job) throw new Error("no payout started");
  return { t, p, job, svc, sent };
}

const postsFor = async (payoutId: string) =>
  (await fakeRequests("/v1/transfers")).filter((r) => r.method === "POST" && r.headers["idempotency-key"] === payoutId);

const entriesOf = (payoutId: string) =>
  env.DB.prepare("SELECT source, type, amountCents FROM earningsLedger WHERE payoutId = ? ORDER BY seq")
    .bind(payoutId)
    .all<{ source: string; type: string; amountCents: number }>()
    .then((r) => r.results);

const notices = (userId: string, type: string) =>
  env.DB.prepare("SELECT data FROM notifications WHERE userId = ? AND type = ?")
    .bind(userId, type)
    .all<{ data: string }>()
    .then((r) => r.results);

function reversedEvent(
  transfer: { id: string; amount: number; destination: string; group: string },
  reversed = transfer.amount,
) {
  return {
    id: `evt_${crypto.randomUUID().replaceAll("-", "")}`,
    object: "event",
    type: "transfer.reversed",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: {
      object: {
        id: transfer.id,
        object: "transfer",
        amount: transfer.amount,
        amount_reversed: reversed,
        reversed: reversed >= transfer.amount,
        currency: "usd",
        destination: transfer.destination,
        transfer_group: transfer.group,
      },
    },
  } as unknown as StripeEvent;
}

describe("the transfer job", () => {
  it("delivered twice, and twice at once, makes one transfer and one paid notice", async () => {
    const { t, p, job, svc } = await pendingPayout(2500);
    await Promise.all([transferPayoutJob(svc, job), transferPayoutJob(svc, job)]);
    await transferPayoutJob(svc, job);
    const [after] = await payoutsOf(t.id);
    expect(after).toMatchObject({ status: "paid", amountCents: 2500 });
    // concurrent deliveries may both ask Stripe; the shared key makes them one transfer
    const posts = await postsFor(p.id);
    expect(posts.length).toBeGreaterThanOrEqual(1);
    const transfers = await (
      await fetch(`${env.FAKE_PROVIDERS_URL}/v1/transfers?transfer_group=${p.id}`, {
        headers: { authorization: "Bearer sk_test_fake" },
      })
    ).json<{ data: { id: string }[] }>();
    expect(transfers.data.map((x) => x.id)).toEqual([after?.stripeTransferId]);
    expect(await notices(t.id, "payout_paid")).toHaveLength(1);
    expect(await entriesOf(p.id)).toEqual([{ source: "payout", type: "debit", amountCents: 2500 }]);
    expect(await eventTypesOf(p.id)).toEqual(["payout.paid"]);
  });

  it("a refusal fails the payout with one reversal; the balance is back and the next run pays again", async () => {
    const { t, p, job, svc } = await pendingPayout(3100);
    await refuseTransfers(t.accountId);
    await transferPayoutJob(svc, job);
    await transferPayoutJob(svc, job);
    const [failed] = await payoutsOf(t.id);
    expect(failed).toMatchObject({ status: "failed", stripeTransferId: null });
    expect(failed?.failureReason).toMatch(/refused/i);
    expect(await entriesOf(p.id)).toEqual([
      { source: "payout", type: "debit", amountCents: 3100 },
      { source: "payout_reversal", type: "credit", amountCents: 3100 },
    ]);
    expect(await earningsBalance(t.id)).toBe(3100);
    expect(await notices(t.id, "payout_failed")).toHaveLength(1);
    expect(await eventTypesOf(p.id)).toEqual(["payout.failed"]);
    // the next run pays the restored balance again
    const next = await recordingSvc();
    await runPayouts(next.svc, admin);
    const all = await payoutsOf(t.id);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: "pending", amountCents: 3100 });
    expect(await earningsBalance(t.id)).toBe(0);
  });

  it("a transient error retries and leaves the payout pending; the retry pays it", async () => {
    const { t, p, job, svc } = await pendingPayout(2700);
    await failNext("/v1/transfers", 503, { match: p.id, times: 3 });
    await expect(transferPayoutJob(svc, job)).rejects.toSatisfy(
      (e: unknown) => e instanceof ProviderError && e.transient,
    );
    const [still] = await payoutsOf(t.id);
    expect(still).toMatchObject({ status: "pending" });
    expect(still?.attemptedAt).not.toBeNull();
    await transferPayoutJob(svc, job);
    expect((await payoutsOf(t.id))[0]).toMatchObject({ status: "paid" });
  });

  it("only a refusal about the destination fails a payout: a 409, an idempotency error or the platform's balance are retried", async () => {
    const { t, p, job, svc } = await pendingPayout(2600);
    const stripeError = (code: string, type = "invalid_request_error") => ({
      error: { code, type, message: `${code} (test)` },
    });
    for (const [status, body] of [
      [409, stripeError("idempotency_key_in_use", "idempotency_error")],
      [400, stripeError("idempotency_key_reused", "idempotency_error")],
      [400, stripeError("balance_insufficient")],
      [401, stripeError("api_key_expired", "authentication_error")],
    ] as const) {
      // the SDK retries a 409 itself: fail it more often than that
      await failNext("/v1/transfers", status, { match: p.id, times: status === 409 ? 3 : 1, body });
      await expect(transferPayoutJob(svc, job), `${status} ${body.error.code}`).rejects.toSatisfy(
        (e: unknown) => e instanceof ProviderError && e.transient,
      );
      expect((await payoutsOf(t.id))[0]?.status).toBe("pending");
      expect(await entriesOf(p.id)).toHaveLength(1);
    }
    // a lookup that fails (the job may have run) is retried too, never a failed payout
    await failNext("/v1/transfers", 403, { match: p.id, body: stripeError("secret_key_required") });
    await expect(transferPayoutJob(svc, job)).rejects.toSatisfy((e: unknown) => e instanceof ProviderError);
    expect((await payoutsOf(t.id))[0]?.status).toBe("pending");
    await transferPayoutJob(svc, job);
    expect((await payoutsOf(t.id))[0]?.status).toBe("paid");
    expect(await notices(t.id, "payout_failed")).toHaveLength(0);
  });

  it("a transfer job that exhausted its retries alerts the admins and leaves the payout pending for the replay", async () => {
    const { t, p, job, svc } = await pendingPayout(2450);
    const staff = await createUser("admin");
    await onRetriesExhausted(svc, job, 6);
    const alerts = await env.DB.prepare(
      "SELECT data FROM notifications WHERE userId = ? AND type = 'payment_job_failed' AND data LIKE ?",
    )
      .bind(staff.id, `%${p.id}%`)
      .all();
    expect(alerts.results).toHaveLength(1);
    expect((await payoutsOf(t.id))[0]?.status).toBe("pending");
    await transferPayoutJob(svc, job); // the dead letter's replay
    expect((await payoutsOf(t.id))[0]?.status).toBe("paid");
  });

  it("a job that may have run before looks the transfer up by its group instead of asking again", async () => {
    const { t, p, job, svc } = await pendingPayout(2300);
    // as if an earlier delivery's transfer went through but its answer was lost (and Stripe, 24 h
    // later, no longer knows the key): the transfer exists, the payout is pending and attempted
    const made = await fetch(`${env.FAKE_PROVIDERS_URL}/v1/transfers`, {
      method: "POST",
      headers: {
        authorization: "Bearer sk_test_fake",
        "content-type": "application/x-www-form-urlencoded",
        "idempotency-key": p.id,
      },
      body: new URLSearchParams({
        amount: "2300",
        currency: "usd",
        destination: t.accountId,
        transfer_group: p.id,
      }).toString(),
    });
    expect(made.status).toBe(200);
    const transfer = await made.json<{ id: string }>();
    await env.DB.prepare("UPDATE payouts SET attemptedAt = ? WHERE id = ?").bind(Date.now(), p.id).run();
    await transferPayoutJob(svc, job);
    expect(await postsFor(p.id)).toHaveLength(1); // only the earlier one
    expect((await payoutsOf(t.id))[0]).toMatchObject({ status: "paid", stripeTransferId: transfer.id });
  });
});

describe("transfer.reversed", () => {
  it("replayed three times: one reversal, the payout failed, the balance back", async () => {
    const { t, p, job, svc } = await pendingPayout(2900);
    await transferPayoutJob(svc, job);
    const [paid] = await payoutsOf(t.id);
    const event = reversedEvent({
      id: paid?.stripeTransferId ?? "",
      amount: 2900,
      destination: t.accountId,
      group: p.id,
    });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await applyTransferReversed(svc, event));
    expect(outcomes).toEqual(["reversed", "nothing", "nothing"]);
    expect((await payoutsOf(t.id))[0]).toMatchObject({
      status: "failed",
      failureReason: "Stripe reversed the transfer",
    });
    expect((await entriesOf(p.id)).filter((e) => e.source === "payout_reversal")).toHaveLength(1);
    expect(await earningsBalance(t.id)).toBe(2900);
  });

  it("a partial reversal alerts the admins and leaves the payout paid; an unknown transfer changes nothing", async () => {
    const { t, p, job, svc } = await pendingPayout(4000);
    await transferPayoutJob(svc, job);
    const [paid] = await payoutsOf(t.id);
    const transfer = { id: paid?.stripeTransferId ?? "", amount: 4000, destination: t.accountId, group: p.id };
    expect(await applyTransferReversed(svc, reversedEvent(transfer, 1000))).toBe("partial");
    expect((await payoutsOf(t.id))[0]?.status).toBe("paid");
    expect(await applyTransferReversed(svc, reversedEvent({ ...transfer, id: "tr_other" }))).toBe("unknown");
    expect(await applyTransferReversed(svc, reversedEvent({ ...transfer, group: "pay_unknown" }))).toBe("unknown");
    expect(await applyTransferReversed(svc, reversedEvent({ ...transfer, destination: "acct_other" }))).toBe("unknown");
    expect(await earningsBalance(t.id)).toBe(0);
  });
});
