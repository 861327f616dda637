/** The emulator on its own, driven by the official SDKs (Node builds) and by raw malformed calls. */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import OpenAI from "openai";
import { Resend } from "resend";
import Stripe from "stripe";
import { wav } from "../tools/offline/client.ts";
import { c, email } from "./helpers.ts";

const base = new URL(c.emulatorUrl);
const stripe = new Stripe("sk_test_sdk_check", {
  host: base.hostname,
  port: Number(base.port),
  protocol: "http",
  maxNetworkRetries: 0,
});
const raw = (path: string, init: RequestInit) => fetch(`${c.emulatorUrl}${path}`, init);

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
    const event = stripe.webhooks.constructEvent(sent.payload, sent.signature, "whsec_offline_emulator_secret");
    assert.equal(event.type, "checkout.session.completed");
    const obj = event.data.object as Stripe.Checkout.Session;
    assert.equal(obj.payment_status, "paid");
    assert.match(String(obj.payment_intent), /^pi_/);
    const t = sent.signature.split(",")[0]?.slice(2);
    assert.equal(
      sent.signature,
      `t=${t},v1=${createHmac("sha256", "whsec_offline_emulator_secret").update(`${t}.${sent.payload}`).digest("hex")}`,
    );
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
