/**
 * Tutor payouts end to end, black box: two tutors onboard through the emulator's hosted Connect page
 * (its "Complete" button sends a signed `account.updated`), each teaches a lesson that the test clock
 * and the cron settle, an admin runs payouts: the first is `paid`; the second's account refuses
 * transfers, so its payout `failed`, the money is back, and once the account is fixed the next run
 * pays it. Then Stripe reverses the first transfer: `failed` with one reversal, however often the
 * event is replayed. Serial: it moves "now" for the whole server; the clock is reset afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { idempotencyKey, unwrap } from "../../sdk/src/index.ts";
import { signStripePayload } from "../../tools/common/stripe-signature.ts";
import { OFFLINE_STRIPE_WEBHOOK_SECRET } from "../../tools/offline/stack.ts";
import {
  adminEmail,
  c,
  dataOf,
  expectProblemOf,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  QUARTER,
  type Student,
  sdkAs,
  type Tokens,
  type Tutor,
} from "../helpers.ts";

const HOUR = 3600_000;
const PRICE = 3; // credits per hour: one lesson earns 3 × 800 = 2400 cents, above the 2000 minimum

type PayoutStatus = "pending" | "paid" | "failed";

const anyone = sdkAs();
const serverNow = async () => unwrap(await anyone.GET("/v1/dev/clock")).now;
async function advanceTo(at: number) {
  const now = await serverNow();
  if (at > now) unwrap(await anyone.POST("/v1/dev/clock", { body: { advanceMs: at - now } }));
}
const cron = async () => assert.equal((await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`)).status, 200);
const earnings = async (t: Tutor) => unwrap(await sdkAs(t.token).GET("/v1/me/earnings"));
const payouts = async (t: Tutor) => unwrap(await sdkAs(t.token).GET("/v1/me/payouts"));
const latestPayout = async (t: Tutor, status: PayoutStatus) =>
  poll(`a ${status} payout`, 30_000, async () => {
    const [p] = (await payouts(t)).items;
    return p?.status === status ? p : undefined;
  });

/** POST /v1/me/payout-account, then the hosted page's "Complete onboarding" as a browser would. */
async function onboard(t: Tutor) {
  const asTutor = sdkAs(t.token);
  const created = dataOf(await asTutor.POST("/v1/me/payout-account"), 201);
  assert.equal(created.payoutsEnabled, false);
  const again = dataOf(await asTutor.POST("/v1/me/payout-account"), 200);
  assert.equal(again.accountId, created.accountId);
  assert.notEqual(again.onboardingUrl, created.onboardingUrl, "a fresh link each call");
  // the first link was replaced but is still valid once; use the newest, as the app would
  const page = await fetch(again.onboardingUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Complete onboarding/);
  const done = await fetch(again.onboardingUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "outcome=complete",
    redirect: "manual",
  });
  assert.equal(done.status, 303);
  await poll("payouts enabled by account.updated", 30_000, async () => {
    const a = unwrap(await asTutor.GET("/v1/me/payout-account"));
    return a.payoutsEnabled && a.detailsSubmitted ? a : undefined;
  });
  assert.equal((await earnings(t)).payoutsEnabled, true);
  return created.accountId;
}

describe("tutor payouts on the test clock", () => {
  let admin: Tokens;
  let paid: Tutor;
  let refused: Tutor;
  let s: Student;
  let refusedAccount = "";
  let subjectId = "";

  before(async () => {
    admin = await c.login(adminEmail("payouts"));
    subjectId = (await newSubject(admin)).id;
    paid = await newTutor(admin, [subjectId], PRICE);
    refused = await newTutor(admin, [subjectId], PRICE);
    s = await newStudent();
    await fund(admin, s.userId, 2 * PRICE);
  });

  after(async () => {
    unwrap(await anyone.POST("/v1/dev/clock", { body: { reset: true } }));
  });

  it("a tutor onboards through the hosted page; a student is never a payout account holder", async () => {
    expectProblemOf(await sdkAs(s.token).POST("/v1/me/payout-account"), 403, "forbidden");
    expectProblemOf(await sdkAs(paid.token).GET("/v1/me/payout-account"), 404, "not_found");
    await onboard(paid);
    refusedAccount = await onboard(refused);
    // the second tutor's bank account is closed: Stripe refuses every transfer to it
    await c.emulator(`/__control/stripe/accounts/${refusedAccount}/refuse-transfers`, {
      method: "POST",
      body: JSON.stringify({ message: "The destination account cannot receive transfers." }),
    });
  });

  it("each teaches a lesson that settles after the hold; the run pays one and fails the other", async () => {
    const t0 = Math.ceil(((await serverNow()) + 2 * HOUR) / QUARTER) * QUARTER;
    const lessons = [];
    for (const [i, t] of [paid, refused].entries()) {
      const r = dataOf(
        await sdkAs(s.token).POST("/v1/sessions", {
          body: { tutorProfileId: t.profileId, subjectId, startTime: t0 + i * 2 * HOUR, durationMinutes: 60 },
        }),
        201,
      );
      lessons.push({ t, id: r.id, start: r.startTime, end: r.endTime });
    }
    for (const l of lessons) {
      await advanceTo(l.start + 60_000);
      const asTutor = sdkAs(l.t.token);
      const path = { path: { id: l.id } };
      dataOf(await asTutor.POST("/v1/sessions/{id}/start", { params: path }), 200);
      dataOf(await asTutor.POST("/v1/sessions/{id}/complete", { params: path }), 200);
    }
    await advanceTo((lessons.at(-1)?.end ?? 0) + 49 * HOUR);
    await cron();
    // (the same cron tick may already run the day's payouts, right after settling: the admin run
    // below then finds nothing new for the first tutor, and both ways end the same)
    for (const l of lessons) {
      await poll("the settlement", 60_000, async () => {
        const r = unwrap(await sdkAs(s.token).GET("/v1/sessions/{id}", { params: { path: { id: l.id } } }));
        return r.settlementStatus === "settled" ? true : undefined;
      });
    }

    const run = dataOf(
      await sdkAs(admin.accessToken).POST("/v1/admin/payouts/run", { params: { header: idempotencyKey() } }),
      202,
    );
    assert.match(run.runId, /^prun_/);

    const ok = await latestPayout(paid, "paid");
    assert.equal(ok.amountCents, PRICE * 800);
    assert.match(ok.stripeTransferId ?? "", /^tr_/);
    assert.equal((await earnings(paid)).balanceCents, 0);
    const transfer = await c.emulator<{ destination: string; transfer_group: string; amount: number }>(
      `/v1/transfers/${ok.stripeTransferId}`,
      { headers: { authorization: "Bearer sk_test_emulator" } },
    );
    assert.equal(transfer.transfer_group, ok.id);
    assert.equal(transfer.amount, ok.amountCents);

    const failed = await latestPayout(refused, "failed");
    assert.match(failed.failureReason ?? "", /cannot receive transfers/);
    assert.equal((await earnings(refused)).balanceCents, PRICE * 800, "the money is back in the balance");
    const notes = unwrap(await sdkAs(refused.token).GET("/v1/notifications"));
    assert.ok(notes.items.some((n) => n.type === "payout_failed"));
    await c.mail(paid.email, /We sent 24\.00 USD to your payout account/);
  });

  it("once the account is fixed, the next run pays the tutor whose transfer failed", async () => {
    await c.emulator(`/__control/stripe/accounts/${refusedAccount}/refuse-transfers`, { method: "DELETE" });
    const asAdmin = sdkAs(admin.accessToken);
    dataOf(await asAdmin.POST("/v1/admin/payouts/run"), 202);
    const p = await latestPayout(refused, "paid");
    assert.equal(p.amountCents, PRICE * 800);
    // newest first: paid, after one failure per run that reached the refusing account
    const [latest, ...earlier] = (await payouts(refused)).items.map((x) => x.status);
    assert.equal(latest, "paid");
    assert.ok(earlier.length >= 1 && earlier.every((x) => x === "failed"), earlier.join(","));
    const list = unwrap(
      await asAdmin.GET("/v1/admin/payouts", { params: { query: { status: "failed", limit: 100 } } }),
    );
    assert.ok(list.items.some((x) => x.userId === refused.userId));
  });

  it("Stripe reverses a paid transfer: failed with one reversal, whatever the replays", async () => {
    const [p] = (await payouts(paid)).items;
    assert.equal(p?.status, "paid");
    const reversed = await c.emulator<{ sent: { event: { id: string } }[] }>(
      `/__control/stripe/transfers/${p?.stripeTransferId}/reverse`,
      { method: "POST", body: JSON.stringify({}) },
    );
    const back = await latestPayout(paid, "failed");
    assert.match(back.failureReason ?? "", /reversed/);
    assert.equal((await earnings(paid)).balanceCents, PRICE * 800);
    // Stripe redelivers the same event (signed afresh each time): nothing moves twice
    const eventId = reversed.sent[0]?.event.id;
    const [event] = (
      await c.emulator<{ id: string; payload: string }[]>("/__control/events?type=transfer.reversed")
    ).filter((e) => e.id === eventId);
    assert.ok(event, "the emulator sent transfer.reversed");
    for (let i = 0; i < 3; i++) {
      // the signed payload's own bytes, straight to the API
      const r = await fetch(`${c.apiUrl}/v1/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signStripePayload(event.payload, OFFLINE_STRIPE_WEBHOOK_SECRET),
        },
        body: event.payload,
      });
      assert.equal(r.status, 200, await r.text());
    }
    const ledger = unwrap(await sdkAs(paid.token).GET("/v1/me/earnings/ledger"));
    assert.equal(ledger.items.filter((e) => e.source === "payout_reversal" && e.payoutId === p?.id).length, 1);
    assert.equal((await earnings(paid)).balanceCents, PRICE * 800);
    const rec = unwrap(await sdkAs(admin.accessToken).GET("/v1/admin/reconciliation"));
    assert.equal(rec.balanced, true);
  });
});
