/**
 * The emulator's Stripe Connect twin on its own, driven by the official `stripe` SDK (Node build)
 * and raw calls: Express accounts, single-use onboarding links and the hosted page, platform
 * transfers, reversals, failure injection, and events signed with the right one of the two secrets.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Stripe from "stripe";
import { OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET, OFFLINE_STRIPE_WEBHOOK_SECRET } from "../tools/offline/stack.ts";
import { c, poll, rand } from "./helpers.ts";

const base = new URL(c.emulatorUrl);
const stripe = new Stripe("sk_test_connect_check", {
  host: base.hostname,
  port: Number(base.port),
  protocol: "http",
  maxNetworkRetries: 0,
});
const raw = (path: string, init: RequestInit = {}) => fetch(`${c.emulatorUrl}${path}`, { redirect: "manual", ...init });
const form = (path: string, body: string, headers: Record<string, string> = {}) =>
  raw(path, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_raw", "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
const postJson = (path: string, body: unknown) =>
  raw(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

interface SentEvent {
  id: string;
  type: string;
  account: string | null;
  payload: string;
  signature: string;
  deliveries: { status?: number; error?: string }[];
}

/** The account's events once `n` exist and each had its first delivery attempt. */
const accountEvents = (account: string, n: number) =>
  poll(`${n} delivered events of ${account}`, 15_000, async () => {
    const events = await c.emulator<SentEvent[]>(`/__control/events?account=${account}`);
    return events.length >= n && events.every((e) => e.deliveries.length > 0) ? events : undefined;
  });

const eventsOfType = (type: string, objectId: string, n: number) =>
  poll(`${n} ${type} of ${objectId}`, 15_000, async () => {
    const all = await c.emulator<SentEvent[]>(`/__control/events?type=${type}`);
    const mine = all.filter((e) => e.payload.includes(`"id": "${objectId}"`) && e.deliveries.length > 0);
    return mine.length >= n ? mine : undefined;
  });

const stripeErr =
  (status: number, code: string | undefined, param?: string) =>
  (err: Stripe.errors.StripeError): boolean => {
    assert.equal(err.statusCode, status, err.message);
    assert.equal(err.code, code, err.message);
    if (param) assert.equal(err.param, param);
    return true;
  };

const newAccount = (userId = `usr_${rand()}`) =>
  stripe.accounts.create(
    {
      type: "express",
      email: `${userId}@e2e.test`,
      capabilities: { transfers: { requested: true } },
      metadata: { userId },
    },
    { idempotencyKey: `connect-account:${userId}` },
  );

const newLink = (account: string) =>
  stripe.accountLinks.create({
    account,
    type: "account_onboarding",
    return_url: "https://app.example/earnings/payouts",
    refresh_url: "https://app.example/earnings/payouts/refresh",
  });

/** Onboards the account through the hosted page (`complete` or `pending`), as a browser would. */
async function onboard(account: string, outcome: "complete" | "pending" = "complete") {
  const link = await newLink(account);
  const token = new URL(link.url).pathname;
  assert.equal((await raw(token)).status, 200);
  const done = await raw(token, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `legal_name=T&outcome=${outcome}`,
  });
  assert.equal(done.status, 303);
  assert.equal(done.headers.get("location"), "https://app.example/earnings/payouts");
}

describe("provider emulator: Stripe Connect", () => {
  it("creates an Express account from the SDK's form, replays it for the same key, refuses the key with other params", async () => {
    const userId = `usr_${rand()}`;
    const first = await newAccount(userId);
    assert.match(first.id, /^acct_/);
    assert.equal(first.object, "account");
    assert.equal(first.type, "express");
    assert.equal(first.charges_enabled, false);
    assert.equal(first.payouts_enabled, false);
    assert.equal(first.details_submitted, false);
    assert.equal(first.capabilities?.transfers, "inactive");
    assert.deepEqual(first.metadata, { userId });
    assert.equal(first.email, `${userId}@e2e.test`);
    assert.ok((first.requirements?.currently_due ?? []).length > 0);
    assert.equal(typeof first.created, "number");
    assert.deepEqual(await stripe.accounts.retrieve(first.id), first);

    const again = await newAccount(userId);
    assert.equal(again.id, first.id);
    assert.equal(again.lastResponse.headers["idempotent-replayed"], "true");
    await assert.rejects(
      stripe.accounts.create(
        { type: "express", email: "other@e2e.test", capabilities: { transfers: { requested: true } } },
        { idempotencyKey: `connect-account:${userId}` },
      ),
      (err: Stripe.errors.StripeError) => err.statusCode === 400 && err.type === "StripeIdempotencyError",
    );
    const accounts = await c.emulator<{ id: string }[]>("/__control/stripe/accounts");
    assert.equal(accounts.filter((a) => a.id === first.id).length, 1);

    const noType = await form("/v1/accounts", "email=a%40b.test");
    assert.equal(noType.status, 400);
    assert.equal(((await noType.json()) as { error: { param: string } }).error.param, "type");
    const badBool = await form("/v1/accounts", "type=express&capabilities[transfers][requested]=yes");
    assert.equal(
      ((await badBool.json()) as { error: { param: string } }).error.param,
      "capabilities[transfers][requested]",
    );
    const json = await raw("/v1/accounts", {
      method: "POST",
      headers: { authorization: "Bearer sk_test_raw", "content-type": "application/json" },
      body: JSON.stringify({ type: "express" }),
    });
    assert.equal(json.status, 400);
  });

  it("account link → hosted page → Complete: a signed account.updated (Connect secret) and a 303 to return_url", async () => {
    const account = await newAccount();
    const link = await newLink(account.id);
    assert.equal(link.object, "account_link");
    assert.equal(link.expires_at - link.created, 300);
    assert.match(link.url, new RegExp(`^${c.emulatorUrl}/connect/onboarding/`));
    const page = await raw(new URL(link.url).pathname);
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<html lang="en">/);
    assert.match(text, /<label for="legal-name">/);
    assert.match(text, /<button type="submit" name="outcome" value="complete">Complete onboarding<\/button>/);
    const done = await raw(new URL(link.url).pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "outcome=complete",
    });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), "https://app.example/earnings/payouts");

    const [sent] = await accountEvents(account.id, 1);
    assert.ok(sent);
    assert.equal(sent.account, account.id);
    const event = stripe.webhooks.constructEvent(sent.payload, sent.signature, OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET);
    assert.throws(() => stripe.webhooks.constructEvent(sent.payload, sent.signature, OFFLINE_STRIPE_WEBHOOK_SECRET));
    assert.equal(event.type, "account.updated");
    assert.equal(event.account, account.id);
    const obj = event.data.object as Stripe.Account;
    assert.equal(obj.id, account.id);
    assert.equal(obj.details_submitted, true);
    assert.equal(obj.payouts_enabled, true);
    assert.equal(obj.charges_enabled, true);
    assert.equal(obj.capabilities?.transfers, "active");
    const previous = event.data.previous_attributes as Partial<Stripe.Account>;
    assert.equal(previous.payouts_enabled, false);
    assert.equal(previous.details_submitted, false);
    assert.equal((await stripe.accounts.retrieve(account.id)).payouts_enabled, true);

    // the link is spent: a second visit or a second submit goes to refresh_url
    const reopened = await raw(new URL(link.url).pathname);
    assert.equal(reopened.status, 303);
    assert.equal(reopened.headers.get("location"), "https://app.example/earnings/payouts/refresh");
    const resubmitted = await raw(new URL(link.url).pathname, { method: "POST", body: "outcome=complete" });
    assert.equal(resubmitted.headers.get("location"), "https://app.example/earnings/payouts/refresh");
  });

  it("'leave payouts pending' submits details without payouts; an expired link goes to refresh_url; unknown account → 400", async () => {
    const account = await newAccount();
    await onboard(account.id, "pending");
    const [sent] = await accountEvents(account.id, 1);
    const obj = stripe.webhooks.constructEvent(
      (sent as SentEvent).payload,
      (sent as SentEvent).signature,
      OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET,
    ).data.object as Stripe.Account;
    assert.equal(obj.details_submitted, true);
    assert.equal(obj.payouts_enabled, false);
    assert.equal(obj.capabilities?.transfers, "pending");
    assert.equal(obj.requirements?.disabled_reason, "requirements.pending_verification");

    const link = await newLink(account.id);
    const expired = await postJson(`/__control/stripe/accounts/${account.id}/expire-links`, {});
    assert.deepEqual(await expired.json(), { expired: 1 });
    const r = await raw(new URL(link.url).pathname);
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "https://app.example/earnings/payouts/refresh");

    await assert.rejects(newLink("acct_NOPE"), stripeErr(400, "resource_missing", "account"));
    await assert.rejects(
      stripe.accountLinks.create({ account: account.id, type: "account_onboarding", return_url: "https://a.example/" }),
      stripeErr(400, "parameter_missing", "refresh_url"),
    );
  });

  it("transfers: success, idempotent replay, refused without active transfers, filtered by transfer_group", async () => {
    const idle = await newAccount();
    const group = `pay_${rand()}`;
    const body = {
      amount: 1500,
      currency: "usd",
      destination: idle.id,
      transfer_group: group,
      metadata: { payoutId: group },
    };
    await assert.rejects(
      stripe.transfers.create(body, { idempotencyKey: `${group}-idle` }),
      stripeErr(400, "insufficient_capabilities_for_transfer", "destination"),
    );
    await assert.rejects(
      stripe.transfers.create({ ...body, destination: "acct_MISSING" }),
      stripeErr(400, "resource_missing", "destination"),
    );

    const tutor = await newAccount();
    await onboard(tutor.id);
    const first = await stripe.transfers.create({ ...body, destination: tutor.id }, { idempotencyKey: group });
    assert.match(first.id, /^tr_/);
    assert.equal(first.object, "transfer");
    assert.equal(first.amount, 1500);
    assert.equal(first.amount_reversed, 0);
    assert.equal(first.reversed, false);
    assert.equal(first.destination, tutor.id);
    assert.equal(first.transfer_group, group);
    assert.deepEqual(first.metadata, { payoutId: group });
    assert.equal(first.livemode, false);
    assert.match(String(first.balance_transaction), /^txn_/);
    assert.match(String(first.destination_payment), /^py_/);
    assert.equal(first.reversals.object, "list");
    const again = await stripe.transfers.create({ ...body, destination: tutor.id }, { idempotencyKey: group });
    assert.equal(again.id, first.id);
    assert.equal(again.lastResponse.headers["idempotent-replayed"], "true");
    await assert.rejects(
      stripe.transfers.create({ ...body, amount: 1, destination: tutor.id }, { idempotencyKey: group }),
      (err: Stripe.errors.StripeError) => err.type === "StripeIdempotencyError",
    );
    const second = await stripe.transfers.create({
      ...body,
      amount: 200,
      transfer_group: `${group}-b`,
      destination: tutor.id,
    });

    const byGroup = await stripe.transfers.list({ transfer_group: group, limit: 1 });
    assert.deepEqual(
      byGroup.data.map((t) => t.id),
      [first.id],
    );
    const byDestination = await stripe.transfers.list({ destination: tutor.id });
    assert.deepEqual(
      byDestination.data.map((t) => t.id),
      [second.id, first.id],
    );
    assert.equal((await stripe.transfers.retrieve(first.id)).id, first.id);
    await assert.rejects(stripe.transfers.retrieve("tr_missing"), stripeErr(404, "resource_missing"));

    // a platform transfer: the SDK sent no Stripe-Account header, and the emulator kept what was sent
    const kept = await c.emulator<{ id: string; stripeAccountHeader: string | null }[]>("/__control/stripe/transfers");
    assert.equal(kept.find((t) => t.id === first.id)?.stripeAccountHeader, null);
    const recorded = await c.emulator<{ headers: Record<string, string> }[]>(
      `/__control/requests?path=/v1/transfers&contains=${group}`,
    );
    assert.ok(recorded.length >= 3);
    assert.ok(recorded.every((r) => r.headers["stripe-account"] === undefined));
  });

  it("failures: injected outages on /v1/transfers, an account refusing transfers, payouts disabled by control", async () => {
    const tutor = await newAccount();
    await onboard(tutor.id);
    const group = `pay_${rand()}`;
    const body = { amount: 700, currency: "usd", destination: tutor.id, transfer_group: group };
    // `match`: only this test's calls (other e2e files make transfers at the same time)
    await postJson("/__control/stripe/fail", { method: "POST", path: "/v1/transfers", match: group, status: 503 });
    await assert.rejects(
      stripe.transfers.create(body, { idempotencyKey: group }),
      (err: Stripe.errors.StripeError) => err.statusCode === 503 && err.type === "StripeAPIError",
    );
    // not stored for the key: the retry goes through
    const ok = await stripe.transfers.create(body, { idempotencyKey: group });
    assert.equal(ok.amount, 700);
    const userId = `usr_${rand()}`;
    await postJson("/__control/fail", { path: "/v1/accounts", match: userId, status: 500, times: 1 });
    await assert.rejects(newAccount(userId), (err: Stripe.errors.StripeError) => err.statusCode === 500);

    const refused = await postJson(`/__control/stripe/accounts/${tutor.id}/refuse-transfers`, {
      code: "account_closed",
      message: "The destination account is closed.",
    });
    assert.equal(refused.status, 200);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        stripe.transfers.create({ ...body, transfer_group: `${group}-${i}` }),
        (err: Stripe.errors.StripeError) =>
          err.statusCode === 400 &&
          err.code === "account_closed" &&
          err.message === "The destination account is closed.",
      );
    }
    assert.equal(
      (await raw(`/__control/stripe/accounts/${tutor.id}/refuse-transfers`, { method: "DELETE" })).status,
      200,
    );
    assert.equal((await stripe.transfers.create({ ...body, transfer_group: `${group}-back` })).amount, 700);

    const off = await postJson(`/__control/stripe/accounts/${tutor.id}/update`, { payouts_enabled: false });
    const out = (await off.json()) as { account: Stripe.Account; sent: { event: { id: string; type: string } }[] };
    assert.equal(out.account.payouts_enabled, false);
    assert.equal(out.sent[0]?.event.type, "account.updated");
    const events = await accountEvents(tutor.id, 2);
    const last = events.at(-1) as SentEvent;
    const ev = stripe.webhooks.constructEvent(last.payload, last.signature, OFFLINE_STRIPE_CONNECT_WEBHOOK_SECRET);
    assert.equal((ev.data.object as Stripe.Account).payouts_enabled, false);
    assert.equal((ev.data.previous_attributes as Partial<Stripe.Account>).payouts_enabled, true);
    assert.equal(
      (await postJson("/__control/stripe/accounts/acct_NOPE/update", { payouts_enabled: false })).status,
      404,
    );
    assert.equal(
      (await postJson(`/__control/stripe/accounts/${tutor.id}/update`, { payouts_enabled: "no" })).status,
      400,
    );
  });

  it("reversals: partial through the API, the rest from the dashboard; each sends a transfer.reversed signed with the platform secret", async () => {
    const tutor = await newAccount();
    await onboard(tutor.id);
    const t = await stripe.transfers.create({
      amount: 1000,
      currency: "usd",
      destination: tutor.id,
      transfer_group: `pay_${rand()}`,
    });
    const partial = await stripe.transfers.createReversal(t.id, { amount: 300 }, { idempotencyKey: `rev-${t.id}` });
    assert.match(partial.id, /^trr_/);
    assert.equal(partial.object, "transfer_reversal");
    assert.equal(partial.amount, 300);
    assert.equal(partial.transfer, t.id);
    const after = await stripe.transfers.retrieve(t.id);
    assert.equal(after.amount_reversed, 300);
    assert.equal(after.reversed, false);
    await assert.rejects(
      stripe.transfers.createReversal(t.id, { amount: 701 }),
      stripeErr(400, "amount_too_large", "amount"),
    );

    const rest = await postJson(`/__control/stripe/transfers/${t.id}/reverse`, {});
    const out = (await rest.json()) as { transfer: Stripe.Transfer; reversal: Stripe.TransferReversal };
    assert.equal(out.reversal.amount, 700);
    assert.equal(out.transfer.amount_reversed, 1000);
    assert.equal(out.transfer.reversed, true);
    assert.equal((await postJson(`/__control/stripe/transfers/${t.id}/reverse`, {})).status, 400);

    const reversed = await eventsOfType("transfer.reversed", t.id, 2);
    const events = reversed.map((e) =>
      stripe.webhooks.constructEvent(e.payload, e.signature, OFFLINE_STRIPE_WEBHOOK_SECRET),
    );
    assert.deepEqual(
      events.map((e) => (e.data.object as Stripe.Transfer).amount_reversed),
      [300, 1000],
    );
    assert.ok(events.every((e) => e.account === undefined));

    const dashboard = await (await raw("/connect")).text();
    assert.match(dashboard, new RegExp(`<code>${t.id}</code>`));
    assert.match(dashboard, new RegExp(`<code>${tutor.id}</code>`));
  });
});
