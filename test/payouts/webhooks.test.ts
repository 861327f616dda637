/**
 * Connect events on POST /v1/webhooks/stripe: `account.updated` sets a tutor's payout flags (signed
 * with either endpoint secret; older events never overwrite newer ones), `transfer.reversed` fails
 * the payout with one reversal. Each is recorded in stripeEvents and marked processed.
 */
import { describe, expect, it } from "vitest";
import { deliver, processed, stripeEvent } from "../credits/helpers";
import { TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE } from "../credits/secret";
import { call, env, expectProblem, json } from "../helpers/api";
import { accountRow, accountUpdated, emulatorAccount, payoutOf, tutorWithAccount } from "./helpers";

const enabled = { payoutsEnabled: true, detailsSubmitted: true };
const disabled = { payoutsEnabled: false, detailsSubmitted: true };
const now = () => Math.floor(Date.now() / 1000);

describe("account.updated", () => {
  it("reads the account back from Stripe: same-second events delivered out of order leave Stripe's current state", async () => {
    const tutor = await tutorWithAccount({ payoutsEnabled: false });
    const accountId = await emulatorAccount({ onboarded: true }); // enabled at Stripe now
    await env.DB.prepare("UPDATE payoutAccounts SET stripeAccountId = ? WHERE userId = ?")
      .bind(accountId, tutor.id)
      .run();
    const second = now();
    // onboarding's two events, the newer (enabled) first, then the older (not yet enabled), same second
    for (const flags of [enabled, { payoutsEnabled: false, detailsSubmitted: false }]) {
      const res = await deliver(accountUpdated(accountId, flags, second), {
        secret: TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE,
      });
      expect(res.status).toBe(200);
    }
    expect(await accountRow(tutor.id)).toMatchObject({ payoutsEnabled: 1, detailsSubmitted: 1 });
  });

  it("signed with the Connect endpoint's secret sets the flags, and GET /v1/me/earnings shows them", async () => {
    const tutor = await tutorWithAccount({ payoutsEnabled: false });
    const earnings = () =>
      call("/v1/me/earnings", { token: tutor.token }).then((r) => json<{ payoutsEnabled: boolean }>(r));
    expect((await earnings()).payoutsEnabled).toBe(false);

    const event = accountUpdated(tutor.accountId, enabled);
    const res = await deliver(event, { secret: TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: true, action: "applied" });
    expect(await accountRow(tutor.id)).toMatchObject({
      payoutsEnabled: 1,
      detailsSubmitted: 1,
      stateAsOf: event.created * 1000,
    });
    expect(await processed(event.id)).toBe("updated");
    expect((await earnings()).payoutsEnabled).toBe(true);
    expect(await json(await call("/v1/me/payout-account", { token: tutor.token }))).toEqual({
      accountId: tutor.accountId,
      payoutsEnabled: true,
      detailsSubmitted: true,
    });
  });

  it("signed with the platform secret works too; the account is found by data.object.id without `account`", async () => {
    const tutor = await tutorWithAccount({ payoutsEnabled: false });
    const { account: _, ...event } = accountUpdated(tutor.accountId, enabled);
    expect((await deliver(event)).status).toBe(200);
    expect(await accountRow(tutor.id)).toMatchObject({ payoutsEnabled: 1, detailsSubmitted: 1 });
  });

  it("an older event delivered after a newer one changes nothing; a replay changes nothing", async () => {
    const tutor = await tutorWithAccount({ payoutsEnabled: false });
    const newer = accountUpdated(tutor.accountId, enabled, now());
    const older = accountUpdated(tutor.accountId, disabled, now() - 60);
    expect((await deliver(newer)).status).toBe(200);
    const late = await deliver(older, { secret: TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE });
    expect(await json(late)).toEqual({ received: true, action: "ignored", reason: "stale" });
    expect(await processed(older.id)).toBe("stale");
    expect(await accountRow(tutor.id)).toMatchObject({ payoutsEnabled: 1, stateAsOf: newer.created * 1000 });

    // a newer "disabled" applies; replaying the first "enabled" event then changes nothing
    const disabling = accountUpdated(tutor.accountId, { payoutsEnabled: false, detailsSubmitted: false }, now() + 5);
    expect(await json(await deliver(disabling))).toEqual({ received: true, action: "applied" });
    expect(await json(await deliver(newer))).toMatchObject({ action: "ignored", reason: "stale" });
    expect(await accountRow(tutor.id)).toMatchObject({ payoutsEnabled: 0, detailsSubmitted: 0 });
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripeEvents WHERE id = ?")
      .bind(newer.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });

  it("a bad signature → 400 and nothing changes", async () => {
    const tutor = await tutorWithAccount({ payoutsEnabled: false });
    const event = accountUpdated(tutor.accountId, enabled);
    await expectProblem(await deliver(event, { secret: "whsec_someone_else" }), 400, "validation_failed");
    await expectProblem(await deliver(event, { header: "t=1,v1=00" }), 400, "validation_failed");
    expect(await accountRow(tutor.id)).toMatchObject({ payoutsEnabled: 0, detailsSubmitted: 0, stateAsOf: 0 });
    expect(await env.DB.prepare("SELECT id FROM stripeEvents WHERE id = ?").bind(event.id).first()).toBeNull();
  });

  it("an unknown account is acknowledged and ignored", async () => {
    const event = accountUpdated("acct_NOBODY_KNOWS_ME", enabled);
    const res = await deliver(event, { secret: TEST_STRIPE_CONNECT_WEBHOOK_SECRET_VALUE });
    expect(await json(res)).toEqual({ received: true, action: "ignored", reason: "unknown account" });
    expect(await processed(event.id)).toBe("unknown account");
  });
});

describe("transfer.reversed", () => {
  const reversedEvent = (p: { id: string; amountCents: number; stripeTransferId: string | null }, accountId: string) =>
    stripeEvent("transfer.reversed", {
      id: p.stripeTransferId,
      object: "transfer",
      amount: p.amountCents,
      amount_reversed: p.amountCents,
      currency: "usd",
      destination: accountId,
      reversed: true,
      transfer_group: p.id,
      metadata: { payoutId: p.id },
    });

  it("fails a paid payout with one reversal; a replay (3×) writes nothing more", async () => {
    const tutor = await tutorWithAccount();
    const payout = await payoutOf(tutor, 5000, Date.now(), "paid");
    const event = reversedEvent(payout, tutor.accountId);
    expect(await json(await deliver(event))).toEqual({ received: true, action: "applied" });
    expect(await processed(event.id)).toBe("reversed");
    for (let i = 0; i < 3; i++) {
      expect(await json(await deliver(event))).toMatchObject({ action: "ignored", reason: "nothing" });
    }
    const row = await env.DB.prepare("SELECT status FROM payouts WHERE id = ?")
      .bind(payout.id)
      .first<{ status: string }>();
    expect(row?.status).toBe("failed");
    const reversals = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM earningsLedger WHERE payoutId = ? AND source = 'payout_reversal'",
    )
      .bind(payout.id)
      .first<{ n: number }>();
    expect(reversals?.n).toBe(1);
    const earnings = await json<{ balanceCents: number }>(await call("/v1/me/earnings", { token: tutor.token }));
    expect(earnings.balanceCents).toBe(5000);
  });

  it("a transfer of no payout of ours is acknowledged and ignored", async () => {
    const tutor = await tutorWithAccount();
    const event = reversedEvent(
      { id: "pay_unknown", amountCents: 100, stripeTransferId: "tr_unknown" },
      tutor.accountId,
    );
    expect(await json(await deliver(event))).toEqual({ received: true, action: "ignored", reason: "unknown" });
    expect(await processed(event.id)).toBe("unknown");
  });
});
