import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { signStripePayload, unixSeconds } from "../tools/common/stripe-signature.ts";
import { OFFLINE_STRIPE_WEBHOOK_SECRET } from "../tools/offline/stack.ts";
import {
  adminEmail,
  balance,
  c,
  expectProblem,
  newStudent,
  newSubject,
  newTutor,
  poll,
  type Student,
  type Tokens,
} from "./helpers.ts";

interface Checkout {
  orderId: string;
  checkoutSessionId: string;
  checkoutUrl: string;
}
interface Order {
  id: string;
  status: string;
  totalCredits: number;
  checkoutSessionId: string;
  completedAt?: number | null;
  expiredAt?: number | null;
}
interface SentEvent {
  id: string;
  type: string;
  payload: string;
  signature: string;
}

const checkout = (s: Student, packId = "pack_5", headers?: Record<string, string>) =>
  c.call<Checkout>("/v1/credits/checkout", { token: s.token, body: { packId }, headers });

const orderOf = async (s: Student, id: string) =>
  (await c.ok<{ items: Order[] }>("/v1/credits/orders", { token: s.token })).items.find((o) => o.id === id);

const settled = (s: Student, id: string) =>
  poll("the order to settle", 20_000, async () => {
    const o = await orderOf(s, id);
    return o && o.status !== "pending" ? o : undefined;
  });

const events = (sessionId: string) => c.emulator<SentEvent[]>(`/__control/events?sessionId=${sessionId}`);

const postWebhook = (payload: string, signature: string | undefined) =>
  c.call<{ received: boolean; action: string; reason?: string }>("/v1/webhooks/stripe", {
    method: "POST",
    raw: payload,
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
  });

const sign = (payload: string, secret = OFFLINE_STRIPE_WEBHOOK_SECRET, t?: number) =>
  signStripePayload(payload, secret, t);

describe("credits and payments through the emulator's hosted checkout", () => {
  let admin: Tokens;
  before(async () => {
    admin = await c.login(adminEmail("pay"));
  });

  it("lists the packs", async () => {
    const packs = await c.ok<{ items: { id: string }[]; nextCursor: null }>("/v1/credits/packs");
    assert.deepEqual(
      packs.items.map((p) => p.id),
      ["pack_5", "pack_20"],
    );
    assert.equal(packs.nextCursor, null);
  });

  it("Pay credits the order once; replays and late expiries change nothing", async () => {
    const s = await newStudent();
    const r = await checkout(s, "pack_20");
    assert.equal(r.status, 201, r.text);
    const co = r.body;
    assert.match(co.checkoutSessionId, /^cs_test_/);
    assert.ok(co.checkoutUrl.startsWith(`${c.emulatorUrl}/checkout/`));
    assert.equal((await orderOf(s, co.orderId))?.status, "pending");

    // the hosted page renders, then the Pay button
    const page = await fetch(co.checkoutUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Pay/);
    const paid = await c.checkoutAction(co.checkoutUrl, "pay");
    assert.equal(paid.status, 200);
    assert.equal(paid.event?.type, "checkout.session.completed");
    assert.equal(paid.delivery?.status, 200, paid.delivery?.body);

    const order = await settled(s, co.orderId);
    assert.equal(order.status, "completed");
    assert.equal(await balance(s), 20);

    // Stripe redelivers the same event (same signature), then once more freshly signed
    const [sent] = await events(co.checkoutSessionId);
    assert.ok(sent);
    const replay = await postWebhook(sent.payload, sent.signature);
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.body.action, "ignored");
    assert.equal((await postWebhook(sent.payload, sign(sent.payload))).status, 200);
    // concurrent duplicate deliveries
    const dupes = await Promise.all(Array.from({ length: 5 }, () => postWebhook(sent.payload, sign(sent.payload))));
    for (const d of dupes) assert.equal(d.status, 200);
    // a second event object for the same session, and a late expiry
    const second = sent.payload.replace(sent.id, `${sent.id}x`);
    assert.equal((await postWebhook(second, sign(second))).status, 200);
    const expired = sent.payload
      .replace(sent.id, `${sent.id}y`)
      .replace('"type": "checkout.session.completed"', '"type": "checkout.session.expired"');
    assert.equal((await postWebhook(expired, sign(expired))).status, 200);

    await new Promise((ok) => setTimeout(ok, 2500));
    assert.equal(await balance(s), 20);
    assert.equal((await orderOf(s, co.orderId))?.status, "completed");
    const ledger = await c.ok<{ items: { source: string; amount: number; purchaseOrderId: string }[] }>(
      "/v1/credits/ledger",
      {
        token: s.token,
      },
    );
    assert.deepEqual(
      ledger.items.map((e) => [e.source, e.amount, e.purchaseOrderId]),
      [["purchase", 20, co.orderId]],
    );
    // paying an already paid session is refused by the provider
    assert.equal((await c.checkoutAction(co.checkoutUrl, "pay")).status, 409);

    const notes = await c.ok<{ items: { type: string }[] }>("/v1/notifications", { token: s.token });
    assert.equal(notes.items.filter((n) => n.type === "payment_completed").length, 1);
    await c.mail(s.email, /credits/i);
  });

  it("Cancel expires the order and credits nothing; Pay afterwards is refused", async () => {
    const s = await newStudent();
    const co = (await checkout(s)).body;
    const cancelled = await c.checkoutAction(co.checkoutUrl, "cancel");
    assert.equal(cancelled.event?.type, "checkout.session.expired");
    assert.equal(cancelled.delivery?.status, 200);
    const order = await settled(s, co.orderId);
    assert.equal(order.status, "expired");
    assert.ok(order.expiredAt);
    assert.equal((await c.checkoutAction(co.checkoutUrl, "pay")).status, 409);
    // a forged "completed" for that session, properly signed, cannot revive it
    const [sent] = await events(co.checkoutSessionId);
    assert.ok(sent);
    const forged = sent.payload
      .replace(sent.id, `${sent.id}z`)
      .replace('"type": "checkout.session.expired"', '"type": "checkout.session.completed"')
      .replace('"payment_status": "unpaid"', '"payment_status": "paid"');
    assert.equal((await postWebhook(forged, sign(forged))).status, 200);
    await new Promise((ok) => setTimeout(ok, 2000));
    assert.equal((await orderOf(s, co.orderId))?.status, "expired");
    assert.equal(await balance(s), 0);
  });

  it("refuses unsigned, badly signed and stale webhooks, and acknowledges unknown event types", async () => {
    const s = await newStudent();
    const co = (await checkout(s)).body;
    const payload = JSON.stringify({
      id: "evt_forged",
      object: "event",
      type: "checkout.session.completed",
      data: {
        object: {
          id: co.checkoutSessionId,
          object: "checkout.session",
          client_reference_id: co.orderId,
          payment_status: "paid",
        },
      },
    });
    await expectProblem(await postWebhook(payload, undefined), 400, "validation_failed");
    await expectProblem(await postWebhook(payload, sign(payload, "whsec_wrong")), 400, "validation_failed");
    await expectProblem(
      await postWebhook(payload, sign(payload, OFFLINE_STRIPE_WEBHOOK_SECRET, unixSeconds() - 3600)),
      400,
      "validation_failed",
    );
    await expectProblem(await postWebhook(`${payload} `, sign(payload)), 400, "validation_failed");
    const unknown = JSON.stringify({
      id: "evt_unknown",
      object: "event",
      type: "customer.created",
      data: { object: { id: "cus_1" } },
    });
    const ack = await postWebhook(unknown, sign(unknown));
    assert.equal(ack.status, 200);
    assert.equal(ack.body.action, "ignored");
    await new Promise((ok) => setTimeout(ok, 1000));
    assert.equal((await orderOf(s, co.orderId))?.status, "pending");
    assert.equal(await balance(s), 0);
  });

  it("honours Idempotency-Key on checkout; refuses bad packs and non-students", async () => {
    const s = await newStudent();
    const key = { "idempotency-key": `co-${Date.now()}` };
    const a = await checkout(s, "pack_5", key);
    const b = await checkout(s, "pack_5", key);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.deepEqual(b.body, a.body);
    await expectProblem(await checkout(s, "pack_20", key), 422, "idempotency_conflict");
    const orders = await c.ok<{ items: Order[] }>("/v1/credits/orders", { token: s.token });
    assert.equal(orders.items.length, 1);
    await expectProblem(await checkout(s, "pack_nope"), 400, "validation_failed");
    await expectProblem(
      await c.call("/v1/credits/checkout", {
        token: s.token,
        body: { packId: "pack_5", credits: 1000 },
        expectViolation: true,
      }),
      400,
      "validation_failed",
    );
    const subject = await newSubject(admin);
    const t = await newTutor(admin, [subject.id]);
    await expectProblem(
      await c.call("/v1/credits/checkout", { token: t.token, body: { packId: "pack_5" } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await c.call("/v1/credits/checkout", { body: { packId: "pack_5" }, expectViolation: true }),
      401,
      "unauthorized",
    );
  });

  it("admin adjustments: credit, debit, never below zero", async () => {
    const s = await newStudent();
    const credit = await c.ok<{ balanceAfter: number; source: string }>(
      "/v1/admin/credits/adjustments",
      { token: admin.accessToken, body: { userId: s.userId, type: "credit", amount: 3, description: "goodwill" } },
      201,
    );
    assert.equal(credit.balanceAfter, 3);
    assert.equal(credit.source, "manual_adjustment");
    await expectProblem(
      await c.call("/v1/admin/credits/adjustments", {
        token: admin.accessToken,
        body: { userId: s.userId, type: "debit", amount: 4, description: "too much" },
      }),
      402,
      "insufficient_credits",
    );
    await expectProblem(
      await c.call("/v1/admin/credits/adjustments", {
        token: admin.accessToken,
        body: { userId: s.userId, type: "credit", amount: 1.5, description: "fraction" },
        expectViolation: true,
      }),
      400,
      "validation_failed",
    );
    const ledger = await c.ok<{ items: { balanceAfter: number }[] }>(`/v1/admin/users/${s.userId}/ledger`, {
      token: admin.accessToken,
    });
    assert.deepEqual(
      ledger.items.map((e) => e.balanceAfter),
      [3],
    );
    await expectProblem(
      await c.call("/v1/admin/credits/adjustments", {
        token: s.token,
        body: { userId: s.userId, type: "credit", amount: 100, description: "self" },
      }),
      403,
      "forbidden",
    );
  });
});
