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
import { signStripePayload } from "../../tools/common/stripe-signature.ts";
import { OFFLINE_STRIPE_WEBHOOK_SECRET } from "../../tools/offline/stack.ts";
import {
  adminEmail,
  book,
  c,
  expectProblem,
  fund,
  newStudent,
  newSubject,
  newTutor,
  poll,
  QUARTER,
  type Student,
  type Tokens,
  type Tutor,
} from "../helpers.ts";

const HOUR = 3600_000;
const PRICE = 3; // credits per hour: one lesson earns 3 × 800 = 2400 cents, above the 2000 minimum

interface Payout {
  id: string;
  amountCents: number;
  currency: string;
  status: "pending" | "paid" | "failed";
  stripeTransferId: string | null;
  failureReason: string | null;
}
interface Earnings {
  balanceCents: number;
  payoutsEnabled: boolean;
}
interface PayoutAccount {
  accountId: string;
  onboardingUrl: string;
  payoutsEnabled: boolean;
}

const serverNow = async () => (await c.ok<{ now: number }>("/v1/dev/clock")).now;
async function advanceTo(at: number) {
  const now = await serverNow();
  if (at > now) await c.ok("/v1/dev/clock", { body: { advanceMs: at - now } });
}
const cron = async () => assert.equal((await fetch(`${c.apiUrl}/cdn-cgi/local/scheduled`)).status, 200);
const earnings = (t: Tutor) => c.ok<Earnings>("/v1/me/earnings", { token: t.token });
const payouts = (t: Tutor) => c.ok<{ items: Payout[] }>("/v1/me/payouts", { token: t.token });
const latestPayout = async (t: Tutor, status: Payout["status"]) =>
  poll(`a ${status} payout`, 30_000, async () => {
    const [p] = (await payouts(t)).items;
    return p?.status === status ? p : undefined;
  });

/** POST /v1/me/payout-account, then the hosted page's "Complete onboarding" as a browser would. */
async function onboard(t: Tutor) {
  const created = await c.call<PayoutAccount>("/v1/me/payout-account", { method: "POST", token: t.token });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.payoutsEnabled, false);
  const again = await c.call<PayoutAccount>("/v1/me/payout-account", { method: "POST", token: t.token });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.accountId, created.body.accountId);
  assert.notEqual(again.body.onboardingUrl, created.body.onboardingUrl, "a fresh link each call");
  // the first link was replaced but is still valid once; use the newest, as the app would
  const page = await fetch(again.body.onboardingUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Complete onboarding/);
  const done = await fetch(again.body.onboardingUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "outcome=complete",
    redirect: "manual",
  });
  assert.equal(done.status, 303);
  await poll("payouts enabled by account.updated", 30_000, async () => {
    const a = await c.ok<{ payoutsEnabled: boolean; detailsSubmitted: boolean }>("/v1/me/payout-account", {
      token: t.token,
    });
    return a.payoutsEnabled && a.detailsSubmitted ? a : undefined;
  });
  assert.equal((await earnings(t)).payoutsEnabled, true);
  return created.body.accountId;
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
    await c.ok("/v1/dev/clock", { body: { reset: true } });
  });

  it("a tutor onboards through the hosted page; a student is never a payout account holder", async () => {
    await expectProblem(await c.call("/v1/me/payout-account", { method: "POST", token: s.token }), 403, "forbidden");
    await expectProblem(await c.call("/v1/me/payout-account", { token: paid.token }), 404, "not_found");
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
      const r = await book(s, t, subjectId, t0 + i * 2 * HOUR, 60);
      assert.equal(r.status, 201, r.text);
      lessons.push({ t, id: r.body.id, start: r.body.startTime, end: r.body.endTime });
    }
    for (const l of lessons) {
      await advanceTo(l.start + 60_000);
      const started = await c.call(`/v1/sessions/${l.id}/start`, { method: "POST", token: l.t.token });
      assert.equal(started.status, 200, started.text);
      const done = await c.call(`/v1/sessions/${l.id}/complete`, { method: "POST", token: l.t.token });
      assert.equal(done.status, 200, done.text);
    }
    await advanceTo((lessons.at(-1)?.end ?? 0) + 49 * HOUR);
    await cron();
    // (the same cron tick may already run the day's payouts, right after settling: the admin run
    // below then finds nothing new for the first tutor, and both ways end the same)
    for (const l of lessons) {
      await poll("the settlement", 60_000, async () => {
        const r = await c.ok<{ settlementStatus: string }>(`/v1/sessions/${l.id}`, { token: s.token });
        return r.settlementStatus === "settled" ? true : undefined;
      });
    }

    const run = await c.call<{ runId: string; payouts: number }>("/v1/admin/payouts/run", {
      method: "POST",
      token: admin.accessToken,
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    assert.equal(run.status, 202, run.text);
    assert.match(run.body.runId, /^prun_/);

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
    const notes = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: refused.token });
    assert.ok(notes.items.some((n) => n.type === "payout_failed"));
    await c.mail(paid.email, /We sent 24\.00 USD to your payout account/);
  });

  it("once the account is fixed, the next run pays the tutor whose transfer failed", async () => {
    await c.emulator(`/__control/stripe/accounts/${refusedAccount}/refuse-transfers`, { method: "DELETE" });
    const run = await c.call("/v1/admin/payouts/run", { method: "POST", token: admin.accessToken });
    assert.equal(run.status, 202, run.text);
    const p = await latestPayout(refused, "paid");
    assert.equal(p.amountCents, PRICE * 800);
    // newest first: paid, after one failure per run that reached the refusing account
    const [latest, ...earlier] = (await payouts(refused)).items.map((x) => x.status);
    assert.equal(latest, "paid");
    assert.ok(earlier.length >= 1 && earlier.every((x) => x === "failed"), earlier.join(","));
    const list = await c.ok<{ items: { id: string; userId: string }[] }>("/v1/admin/payouts?status=failed&limit=100", {
      token: admin.accessToken,
    });
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
    const ledger = await c.ok<{ items: { source: string; payoutId: string | null }[] }>("/v1/me/earnings/ledger", {
      token: paid.token,
    });
    assert.equal(ledger.items.filter((e) => e.source === "payout_reversal" && e.payoutId === p?.id).length, 1);
    assert.equal((await earnings(paid)).balanceCents, PRICE * 800);
    const rec = await c.ok<{ balanced: boolean }>("/v1/admin/reconciliation", { token: admin.accessToken });
    assert.equal(rec.balanced, true);
  });
});
