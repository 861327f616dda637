/** The emulator on its own, driven by the official SDKs (Node builds) and by raw malformed calls. */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import OpenAI from "openai";
import { Resend } from "resend";
import Stripe from "stripe";
import { wav } from "../tools/offline/client.ts";
import { OFFLINE_STRIPE_WEBHOOK_SECRET } from "../tools/offline/stack.ts";
import { c, email, poll } from "./helpers.ts";

const base = new URL(c.emulatorUrl);
const stripe = new Stripe("sk_test_sdk_check", {
  host: base.hostname,
  port: Number(base.port),
  protocol: "http",
  maxNetworkRetries: 0,
});
const raw = (path: string, init: RequestInit) => fetch(`${c.emulatorUrl}${path}`, init);
/** A raw `POST /v1/refunds` with a form body, for what the SDK would never send. */
const refundForm = (body: string, headers: Record<string, string> = {}) =>
  raw("/v1/refunds", {
    method: "POST",
    headers: {
      authorization: "Bearer sk_test_raw",
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body,
  });
const postJson = (path: string, body: unknown) =>
  raw(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

interface SentEvent {
  id: string;
  type: string;
  sessionId: string | null;
  paymentIntent: string | null;
  payload: string;
  signature: string;
  withheld?: true;
  deliveries: { status?: number; error?: string }[];
}

/** A hosted checkout paid on the emulator's page; `deliver: false` loses its webhook. */
async function paidSession(amount = 1000, opts: { currency?: string; deliver?: boolean } = {}) {
  const created = await stripe.checkout.sessions.create({
    mode: "payment",
    success_url: "https://example.com/ok",
    payment_intent_data: { metadata: { orderId: "ord_after_the_fact" } },
    line_items: [
      {
        quantity: 1,
        price_data: { currency: opts.currency ?? "usd", unit_amount: amount, product_data: { name: "P" } },
      },
    ],
  });
  const query = opts.deliver === false ? "?deliver=none" : "";
  const r = await raw(`/checkout/${created.id}/pay${query}`, {
    method: "POST",
    headers: { accept: "application/json" },
  });
  assert.equal(r.status, 200);
  const session = await stripe.checkout.sessions.retrieve(created.id);
  return { session, paymentIntent: session.payment_intent as string };
}

/** The payment's events once `n` of them exist and each got its first answer from the API. */
const deliveredEvents = (paymentIntent: string, n: number) =>
  poll(`${n} delivered events for ${paymentIntent}`, 15_000, async () => {
    const events = await c.emulator<SentEvent[]>(`/__control/events?paymentIntent=${paymentIntent}`);
    return events.length >= n && events.every((e) => e.deliveries.length > 0) ? events : undefined;
  });

/** Verifies the event as the API does, and checks the API acknowledged it (200). */
function verified(sent: SentEvent): Stripe.Event {
  assert.equal(sent.deliveries[0]?.status, 200, `${sent.type}: ${JSON.stringify(sent.deliveries[0])}`);
  return stripe.webhooks.constructEvent(sent.payload, sent.signature, OFFLINE_STRIPE_WEBHOOK_SECRET);
}

const stripeErr =
  (status: number, code: string | undefined, param?: string) =>
  (err: Stripe.errors.StripeError): boolean => {
    assert.equal(err.statusCode, status, err.message);
    assert.equal(err.code, code, err.message);
    if (param) assert.equal(err.param, param);
    return true;
  };

describe("provider emulator with the official SDKs", () => {
  it("Stripe: create, retrieve, list and expire a Checkout Session; validation errors as Stripe words them", async () => {
    const created = await stripe.checkout.sessions.create(
      {
        mode: "payment",
        success_url: "https://example.com/ok",
        cancel_url: "https://example.com/cancel",
        client_reference_id: "ord_sdk",
        metadata: { orderId: "ord_sdk" },
        line_items: [
          { quantity: 2, price_data: { currency: "eur", unit_amount: 700, product_data: { name: "Two things" } } },
        ],
        expires_at: Math.floor(Date.now() / 1000) + 3600,
      },
      { idempotencyKey: `sdk-${Date.now()}` },
    );
    assert.equal(created.amount_total, 1400);
    assert.equal(created.status, "open");
    assert.equal(created.url, `${c.emulatorUrl}/checkout/${created.id}`);
    const got = await stripe.checkout.sessions.retrieve(created.id);
    assert.equal(got.client_reference_id, "ord_sdk");
    assert.deepEqual(got.metadata, { orderId: "ord_sdk" });
    const list = await stripe.checkout.sessions.list();
    assert.ok(list.data.some((s) => s.id === created.id));
    const expired = await stripe.checkout.sessions.expire(created.id);
    assert.equal(expired.status, "expired");

    await assert.rejects(
      stripe.checkout.sessions.create({ mode: "payment", success_url: "https://example.com/ok" }),
      (err: Stripe.errors.StripeError) =>
        err.statusCode === 400 && /line_items/.test(err.message) && err.param === "line_items",
    );
    await assert.rejects(
      stripe.checkout.sessions.create({
        mode: "payment",
        success_url: "https://example.com/ok",
        line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } } }],
        expires_at: Math.floor(Date.now() / 1000) + 29 * 60,
      }),
      (err: Stripe.errors.StripeError) => err.statusCode === 400 && /at least 30 minutes/.test(err.message),
    );
    await assert.rejects(
      stripe.checkout.sessions.retrieve("cs_test_missing"),
      (err: Stripe.errors.StripeError) => err.statusCode === 404,
    );
    const bad = new Stripe("pk_test_wrong_kind", {
      host: base.hostname,
      port: Number(base.port),
      protocol: "http",
      maxNetworkRetries: 0,
    });
    await assert.rejects(bad.checkout.sessions.list(), (err: Stripe.errors.StripeError) => err.statusCode === 401);
  });

  it("Stripe: the hosted page signs events that the SDK verifies", async () => {
    const s = await stripe.checkout.sessions.create({
      mode: "payment",
      success_url: "https://example.com/ok",
      line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 500, product_data: { name: "Five" } } }],
    });
    const paid = await c.checkoutAction(s.url ?? "", "pay");
    assert.equal(paid.event?.type, "checkout.session.completed");
    const [sent] = await c.emulator<{ payload: string; signature: string }[]>(`/__control/events?sessionId=${s.id}`);
    assert.ok(sent);
    // the dev stack's secret (tools/offline/stack.ts) signed it
    const event = stripe.webhooks.constructEvent(sent.payload, sent.signature, OFFLINE_STRIPE_WEBHOOK_SECRET);
    assert.equal(event.type, "checkout.session.completed");
    const obj = event.data.object as Stripe.Checkout.Session;
    assert.equal(obj.payment_status, "paid");
    assert.match(String(obj.payment_intent), /^pi_/);
    const t = sent.signature.split(",")[0]?.slice(2);
    assert.equal(
      sent.signature,
      `t=${t},v1=${createHmac("sha256", OFFLINE_STRIPE_WEBHOOK_SECRET).update(`${t}.${sent.payload}`).digest("hex")}`,
    );
  });

  it("Stripe: a paid checkout has a PaymentIntent and a Charge; open and expired sessions have none", async () => {
    const open = await stripe.checkout.sessions.create({
      mode: "payment",
      success_url: "https://example.com/ok",
      line_items: [{ quantity: 1, price_data: { currency: "usd", unit_amount: 100, product_data: { name: "x" } } }],
    });
    assert.equal(open.payment_intent, null);
    const expired = await stripe.checkout.sessions.expire(open.id);
    assert.equal(expired.payment_intent, null);

    const { session, paymentIntent } = await paidSession(1250, { currency: "eur" });
    assert.match(paymentIntent, /^pi_/);
    assert.equal(session.payment_status, "paid");
    assert.equal(session.status, "complete");
    const [completed] = await deliveredEvents(paymentIntent, 1);
    assert.ok(completed);
    const event = verified(completed);
    assert.equal(event.type, "checkout.session.completed");
    assert.equal((event.data.object as Stripe.Checkout.Session).payment_intent, paymentIntent);

    const pi = await stripe.paymentIntents.retrieve(paymentIntent);
    assert.equal(pi.status, "succeeded");
    assert.equal(pi.amount_received, 1250);
    assert.deepEqual(pi.metadata, { orderId: "ord_after_the_fact" });
    const charge = await stripe.charges.retrieve(String(pi.latest_charge));
    assert.match(charge.id, /^ch_/);
    assert.equal(charge.amount, 1250);
    assert.equal(charge.currency, "eur");
    assert.equal(charge.livemode, false);
    assert.equal(charge.payment_intent, paymentIntent);
    assert.equal(charge.refunded, false);
    const expanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    assert.equal((expanded.payment_intent as Stripe.PaymentIntent).latest_charge, charge.id);
  });

  it("Stripe: refunds through the SDK, partial then the rest, with Idempotency-Key replay and clash; events signed", async () => {
    const { paymentIntent } = await paidSession(1000);
    const key = `refund-${Date.now()}`;
    const first = await stripe.refunds.create(
      { payment_intent: paymentIntent, amount: 300, reason: "requested_by_customer", metadata: { orderId: "o1" } },
      { idempotencyKey: key },
    );
    assert.match(first.id, /^re_/);
    assert.equal(first.object, "refund");
    assert.equal(first.amount, 300);
    assert.equal(first.status, "succeeded");
    assert.equal(first.payment_intent, paymentIntent);
    assert.equal(first.reason, "requested_by_customer");
    assert.deepEqual(first.metadata, { orderId: "o1" });
    assert.match(String(first.charge), /^ch_/);

    // same key, same parameters: the same refund again, not a second one
    const replay = await stripe.refunds.create(
      { payment_intent: paymentIntent, amount: 300, reason: "requested_by_customer", metadata: { orderId: "o1" } },
      { idempotencyKey: key },
    );
    assert.equal(replay.id, first.id);
    const replayedRaw = await refundForm(`payment_intent=${paymentIntent}&amount=100`, {
      "idempotency-key": `raw-${key}`,
    });
    const again = await refundForm(`payment_intent=${paymentIntent}&amount=100`, { "idempotency-key": `raw-${key}` });
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(((await again.json()) as { id: string }).id, ((await replayedRaw.json()) as { id: string }).id);
    // same key, other parameters: Stripe's idempotency_error
    await assert.rejects(
      stripe.refunds.create({ payment_intent: paymentIntent, amount: 400 }, { idempotencyKey: key }),
      (err: Stripe.errors.StripeError) => err.statusCode === 400 && err.type === "StripeIdempotencyError",
    );

    const rest = await stripe.refunds.create({ payment_intent: paymentIntent });
    assert.equal(rest.amount, 600);
    const listed = await stripe.refunds.list({ payment_intent: paymentIntent });
    assert.deepEqual(
      listed.data.map((r) => r.amount),
      [600, 100, 300],
    );
    assert.equal((await stripe.refunds.retrieve(first.id)).amount, 300);

    const events = await deliveredEvents(paymentIntent, 7);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "checkout.session.completed",
        "refund.created",
        "charge.refunded",
        "refund.created",
        "charge.refunded",
        "refund.created",
        "charge.refunded",
      ],
    );
    const charges = events
      .filter((e) => e.type === "charge.refunded")
      .map((e) => verified(e).data.object as Stripe.Charge);
    assert.deepEqual(
      charges.map((ch) => [ch.amount, ch.amount_refunded, ch.refunded, ch.refunds?.data.length]),
      [
        [1000, 300, false, 1],
        [1000, 400, false, 2],
        [1000, 1000, true, 3],
      ],
    );
    for (const ch of charges) {
      assert.equal(ch.object, "charge");
      assert.equal(ch.payment_intent, paymentIntent);
      assert.equal(ch.paid, true);
      assert.equal(ch.livemode, false);
      assert.equal(ch.currency, "usd");
    }
    const refundEvent = verified(events[1] as SentEvent);
    assert.equal((refundEvent.data.object as Stripe.Refund).id, first.id);
    assert.equal(refundEvent.request?.idempotency_key, key);
  });

  it("Stripe: refunds refused with Stripe's codes; malformed refund calls answered 400 and reported", async () => {
    const { paymentIntent } = await paidSession(500);
    await assert.rejects(
      stripe.refunds.create({ payment_intent: "pi_unknown" }),
      stripeErr(400, "resource_missing", "payment_intent"),
    );
    await assert.rejects(
      stripe.refunds.create({ payment_intent: paymentIntent, amount: 501 }),
      stripeErr(400, "amount_too_large", "amount"),
    );
    const charge = (await stripe.paymentIntents.retrieve(paymentIntent)).latest_charge as string;
    // by charge instead of payment intent
    assert.equal((await stripe.refunds.create({ charge, amount: 200 })).payment_intent, paymentIntent);
    await assert.rejects(
      stripe.refunds.create({ payment_intent: paymentIntent, amount: 301 }),
      (err: Stripe.errors.StripeError) =>
        stripeErr(400, "amount_too_large")(err) && /unrefunded amount on charge \(\$3\.00\)/.test(err.message),
    );
    await stripe.refunds.create({ payment_intent: paymentIntent });
    await assert.rejects(
      stripe.refunds.create({ payment_intent: paymentIntent }),
      stripeErr(400, "charge_already_refunded"),
    );

    type Envelope = { error: { type: string; code?: string; message: string; param?: string } };
    const noAuth = await refundForm(`payment_intent=${paymentIntent}`, { authorization: "" });
    assert.equal(noAuth.status, 401);
    assert.equal(((await noAuth.json()) as Envelope).error.type, "invalid_request_error");
    const neither = await refundForm("amount=100");
    assert.equal(neither.status, 400);
    assert.match(((await neither.json()) as Envelope).error.message, /payment_intent or charge/);
    const fraction = await refundForm(`payment_intent=${paymentIntent}&amount=12.5`);
    assert.equal(fraction.status, 400);
    assert.equal(((await fraction.json()) as Envelope).error.param, "amount");
    const unknown = await refundForm(`payment_intent=${paymentIntent}&colour=red`);
    assert.equal(((await unknown.json()) as Envelope).error.code, "parameter_unknown");
    const json = await raw("/v1/refunds", {
      method: "POST",
      headers: { authorization: "Bearer sk_test_raw", "content-type": "application/json" },
      body: JSON.stringify({ payment_intent: paymentIntent }),
    });
    assert.equal(json.status, 400);
  });

  it("Stripe: injected failures answer in Stripe's envelope for `times` calls; /v1/refunds calls are recorded", async () => {
    const { paymentIntent } = await paidSession(800);
    const queued = await postJson("/__control/stripe/fail", {
      method: "POST",
      path: "/v1/refunds",
      status: 503,
      times: 2,
    });
    assert.equal(queued.status, 200);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        stripe.refunds.create({ payment_intent: paymentIntent, amount: 100 }),
        (err: Stripe.errors.StripeError) => err.statusCode === 503 && err.type === "StripeAPIError",
      );
    }
    assert.equal((await stripe.refunds.create({ payment_intent: paymentIntent, amount: 100 })).amount, 100);
    await postJson("/__control/stripe/fail", {
      path: "/v1/refunds",
      status: 402,
      code: "insufficient_funds",
      message: "Not enough balance.",
    });
    await assert.rejects(
      stripe.refunds.create({ payment_intent: paymentIntent, amount: 100 }),
      (err: Stripe.errors.StripeError) =>
        err.statusCode === 402 && err.code === "insufficient_funds" && err.message === "Not enough balance.",
    );
    await postJson("/__control/stripe/fail", { path: "/v1/checkout/sessions/*", status: 500, times: 5 });
    const cleared = await raw("/__control/stripe/fail", { method: "DELETE" });
    assert.equal(cleared.status, 200);
    assert.equal((await stripe.checkout.sessions.list()).object, "list");
    const bad = await postJson("/__control/stripe/fail", { path: "/v1/refunds", status: 200 });
    assert.equal(bad.status, 400);

    const recorded = await c.emulator<{ method: string; body: string }[]>(
      `/__control/requests?path=/v1/refunds&contains=${paymentIntent}`,
    );
    assert.equal(recorded.length, 4);
    assert.ok(recorded.every((r) => r.method === "POST" && r.body.includes("amount=100")));
    // only the call that went through refunded anything
    assert.equal(
      (await stripe.charges.retrieve(String((await stripe.paymentIntents.retrieve(paymentIntent)).latest_charge)))
        .amount_refunded,
      100,
    );
  });

  it("Stripe: a dispute opens, blocks refunds, closes won or lost; dashboard refunds; events signed", async () => {
    const { session, paymentIntent } = await paidSession(2000);
    const opened = await postJson("/__control/stripe/dispute", { checkoutSessionId: session.id });
    assert.equal(opened.status, 200);
    const { dispute } = (await opened.json()) as { dispute: Stripe.Dispute };
    assert.match(dispute.id, /^du_/);
    assert.equal(dispute.object, "dispute");
    assert.equal(dispute.status, "needs_response");
    assert.equal(dispute.reason, "fraudulent");
    assert.equal(dispute.amount, 2000);
    assert.equal(dispute.payment_intent, paymentIntent);
    assert.equal(dispute.livemode, false);
    assert.equal((await stripe.disputes.retrieve(dispute.id)).status, "needs_response");
    await assert.rejects(stripe.refunds.create({ payment_intent: paymentIntent }), stripeErr(400, "charge_disputed"));
    assert.equal((await postJson("/__control/stripe/dispute", { paymentIntent })).status, 400);

    // the hosted page offers the bank's decision as two buttons, plain forms
    const page = await (await raw(`/checkout/${session.id}`, {})).text();
    assert.match(
      page,
      /<form method="post" action="\/checkout\/[^"]+\/dispute\/won"><button type="submit">Dispute won/,
    );
    assert.match(page, /action="\/checkout\/[^"]+\/dispute\/lost"/);
    assert.doesNotMatch(page, /<script/);

    const won = await postJson(`/__control/stripe/disputes/${dispute.id}/close`, { status: "won" });
    assert.equal(((await won.json()) as { dispute: Stripe.Dispute }).dispute.status, "won");
    const twice = await postJson(`/__control/stripe/disputes/${dispute.id}/close`, { status: "lost" });
    assert.equal(twice.status, 400);
    // a won dispute leaves the payment refundable: a refund from the dashboard
    const dash = await postJson("/__control/stripe/refund", { paymentIntent, amount: 500 });
    assert.equal(dash.status, 200);
    const body = (await dash.json()) as { refund: Stripe.Refund; charge: Stripe.Charge };
    assert.equal(body.refund.amount, 500);
    assert.equal(body.charge.amount_refunded, 500);
    assert.equal(body.charge.disputed, true);

    const events = await deliveredEvents(paymentIntent, 5);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "checkout.session.completed",
        "charge.dispute.created",
        "charge.dispute.closed",
        "refund.created",
        "charge.refunded",
      ],
    );
    const [created, closed] = events.slice(1, 3).map((e) => verified(e).data.object as Stripe.Dispute);
    assert.equal(created?.status, "needs_response");
    assert.equal(closed?.status, "won");
    assert.equal(closed?.id, dispute.id);
    for (const e of events) verified(e);

    // a second payment: the dispute opened and lost through the page's buttons (HTML forms)
    const other = await paidSession(700);
    assert.equal((await raw(`/checkout/${other.session.id}/dispute`, { method: "POST" })).status, 200);
    const lost = await raw(`/checkout/${other.session.id}/dispute/lost`, { method: "POST" });
    assert.equal(lost.status, 200);
    assert.match(await lost.text(), /charge\.dispute\.closed/);
    const lostEvents = await deliveredEvents(other.paymentIntent, 3);
    const final = verified(lostEvents[2] as SentEvent);
    assert.equal(final.type, "charge.dispute.closed");
    assert.equal((final.data.object as Stripe.Dispute).status, "lost");
    await assert.rejects(
      stripe.refunds.create({ payment_intent: other.paymentIntent }),
      stripeErr(400, "charge_disputed"),
    );
  });

  it("Stripe: a dashboard refund by checkout session sends refund.created and charge.refunded", async () => {
    const { session, paymentIntent } = await paidSession(900);
    const page = await (await raw(`/checkout/${session.id}`, {})).text();
    assert.match(page, /action="\/checkout\/[^"]+\/refund"><button type="submit">Refund \$9\.00/);
    const r = await postJson("/__control/stripe/refund", { checkoutSessionId: session.id, amount: 400 });
    assert.equal(r.status, 200);
    const { refund, charge } = (await r.json()) as { refund: Stripe.Refund; charge: Stripe.Charge };
    assert.equal(refund.amount, 400);
    assert.equal(charge.amount_refunded, 400);
    assert.equal(charge.refunded, false);
    // the page's Refund button refunds the rest
    const rest = await raw(`/checkout/${session.id}/refund`, {
      method: "POST",
      headers: { accept: "application/json" },
    });
    assert.equal(((await rest.json()) as { refund: Stripe.Refund }).refund.amount, 500);
    const tooMuch = await postJson("/__control/stripe/refund", { paymentIntent, amount: 1 });
    assert.equal(((await tooMuch.json()) as { error: { code: string } }).error.code, "charge_already_refunded");
    assert.equal((await postJson("/__control/stripe/refund", { paymentIntent: "pi_nope" })).status, 404);
    const events = await deliveredEvents(paymentIntent, 5);
    const last = verified(events[4] as SentEvent);
    assert.equal(last.type, "charge.refunded");
    assert.equal((last.data.object as Stripe.Charge).refunded, true);
  });

  it("Stripe: paying with deliver=none records a signed event that is never sent; Stripe still knows it is paid", async () => {
    const { session, paymentIntent } = await paidSession(600, { deliver: false });
    assert.equal(session.payment_status, "paid");
    const [sent] = await c.emulator<SentEvent[]>(`/__control/events?paymentIntent=${paymentIntent}`);
    assert.ok(sent);
    assert.equal(sent.withheld, true);
    assert.deepEqual(sent.deliveries, []);
    const event = stripe.webhooks.constructEvent(sent.payload, sent.signature, OFFLINE_STRIPE_WEBHOOK_SECRET);
    assert.equal(event.type, "checkout.session.completed");
    // what the API's recovery sweep sees
    const swept = await stripe.checkout.sessions.retrieve(session.id);
    assert.equal(swept.payment_intent, paymentIntent);
    assert.equal(swept.status, "complete");
  });

  it("Resend: sends, dedupes by Idempotency-Key, refuses a reused key with another payload, lists in the inbox", async () => {
    const resend = new Resend("re_sdk_check", { baseUrl: c.emulatorUrl });
    const to = email("inbox");
    const key = `mail-${Date.now()}`;
    const first = await resend.emails.send(
      { from: "tutorloop <no-reply@tutorloop.local>", to: [to], subject: "Hello", text: "Hi there" },
      { idempotencyKey: key },
    );
    assert.ok(first.data?.id);
    const again = await resend.emails.send(
      { from: "tutorloop <no-reply@tutorloop.local>", to: [to], subject: "Hello", text: "Hi there" },
      { idempotencyKey: key },
    );
    assert.equal(again.data?.id, first.data?.id);
    const clash = await resend.emails.send(
      { from: "tutorloop <no-reply@tutorloop.local>", to: [to], subject: "Other", text: "x" },
      { idempotencyKey: key },
    );
    assert.equal(clash.error?.statusCode, 409);
    const invalid = await resend.emails.send({ from: "not an address", to: [to], subject: "x", text: "x" });
    assert.equal(invalid.error?.statusCode, 422);
    const inbox = await c.emulator<{ items: { subject: string }[] }>(`/inbox.json?to=${encodeURIComponent(to)}`);
    assert.deepEqual(
      inbox.items.map((m) => m.subject),
      ["Hello"],
    );
    const page = await raw(`/inbox?to=${encodeURIComponent(to)}`, {});
    assert.match(await page.text(), /Hi there/);
  });

  it("OpenAI: chat completions and responses answer JSON matching the requested schema; strict mode is checked", async () => {
    const openai = new OpenAI({ apiKey: "sk-sdk-check", baseURL: `${c.emulatorUrl}/v1`, maxRetries: 0 });
    const schema = {
      type: "object",
      additionalProperties: false,
      required: ["title", "score", "tags", "nested"],
      properties: {
        title: { type: "string" },
        score: { type: "integer" },
        tags: { type: "array", items: { type: "string" } },
        nested: {
          type: "object",
          additionalProperties: false,
          required: ["ok"],
          properties: { ok: { type: "boolean" } },
        },
      },
    };
    const chat = await openai.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Rate this." }],
      response_format: { type: "json_schema", json_schema: { name: "rating", strict: true, schema } },
    });
    const value = JSON.parse(chat.choices[0]?.message.content ?? "") as Record<string, unknown>;
    assert.equal(typeof value.title, "string");
    assert.ok(Number.isInteger(value.score));
    assert.ok(Array.isArray(value.tags) && value.tags.every((x) => typeof x === "string"));
    assert.deepEqual(value.nested, { ok: true });

    const resp = await openai.responses.create({
      model: "gpt-4o-mini",
      input: "Rate this.",
      text: { format: { type: "json_schema", name: "rating", strict: true, schema } },
    });
    assert.equal(typeof (JSON.parse(resp.output_text) as { title: unknown }).title, "string");

    await assert.rejects(
      openai.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "x" }],
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "loose",
            strict: true,
            schema: { type: "object", properties: { a: { type: "string" } } },
          },
        },
      }),
      (err: InstanceType<typeof OpenAI.APIError>) => err.status === 400 && /additionalProperties/.test(err.message),
    );
    await assert.rejects(
      openai.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "no j-word" }],
        response_format: { type: "json_object" },
      }),
      (err: InstanceType<typeof OpenAI.APIError>) => err.status === 400,
    );
  });

  it("Deepgram: answers at once without a callback; refuses non-audio and bad auth like Deepgram", async () => {
    const sync = await raw("/v1/listen?model=nova-3&smart_format=true", {
      method: "POST",
      headers: { authorization: "Token dg_check", "content-type": "audio/wav" },
      body: wav(1),
    });
    assert.equal(sync.status, 200);
    const result = (await sync.json()) as {
      metadata: { request_id: string; duration: number };
      results: { channels: { alternatives: { transcript: string; words: unknown[] }[] }[] };
    };
    assert.equal(result.metadata.duration, 1);
    assert.ok(result.results.channels[0]?.alternatives[0]?.words.length);
    const text = await raw("/v1/listen?model=nova-3", {
      method: "POST",
      headers: { authorization: "Token dg_check", "content-type": "text/plain" },
      body: "hello",
    });
    assert.equal(text.status, 400);
    assert.match(((await text.json()) as { err_msg: string }).err_msg, /corrupt or unsupported data/);
    const noAuth = await raw("/v1/listen", { method: "POST", headers: { "content-type": "audio/wav" }, body: wav(1) });
    assert.equal(noAuth.status, 401);
    const badModel = await raw("/v1/listen?model=nova-99", {
      method: "POST",
      headers: { authorization: "Token dg_check", "content-type": "audio/wav" },
      body: wav(1),
    });
    assert.equal(badModel.status, 400);
  });

  it("Agora: creates a channel with two passphrases; refuses a call without credentials", async () => {
    const ok = await raw("/v1/channel", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "x-project-id": "p" },
      body: JSON.stringify({ title: "Lesson", enable_pstn: false }),
    });
    assert.equal(ok.status, 200);
    const room = (await ok.json()) as { channel: string; host_pass_phrase: string; viewer_pass_phrase: string };
    assert.notEqual(room.host_pass_phrase, room.viewer_pass_phrase);
    assert.match(await (await raw(`/meet/${room.viewer_pass_phrase}`, {})).text(), /viewer/);
    const denied = await raw("/v1/channel", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(denied.status, 401);
  });
});
