import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { backoffSeconds, handleQueue } from "../../src/queues/consumer";
import { call, createUser, env, eventually, expectProblem, fakeRequests, json } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import {
  balance,
  cardRefundsOf,
  checkout,
  checkoutEvent,
  deliver,
  ledgerRows,
  orderStatus,
  processed,
  queueBarrier,
  signedHeader,
  waitForStatus,
} from "./helpers";

async function notifications(userId: string, type: string) {
  return (await env.DB.prepare("SELECT * FROM notifications WHERE userId = ? AND type = ?").bind(userId, type).all())
    .results;
}

describe("Stripe webhook", () => {
  it("credits a paid checkout once, with notification and e-mail", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const res = await deliver(
      checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id }),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ received: true, action: "enqueued" });
    await waitForStatus(orderId, "completed");
    expect(await balance(student.id)).toBe(5);
    const ledger = await json<{ items: Record<string, unknown>[] }>(
      await call("/v1/credits/ledger", { token: student.token }),
    );
    expect(ledger.items).toEqual([
      expect.objectContaining({
        type: "credit",
        amount: 5,
        balanceAfter: 5,
        source: "purchase",
        purchaseOrderId: orderId,
      }),
    ]);
    expect(await json(await call("/v1/credits/balance", { token: student.token }))).toEqual({ balance: 5 });
    expect(await notifications(student.id, "payment_completed")).toHaveLength(1);
    const mails = await eventually(async () => {
      const found = await fakeRequests("/emails", student.email);
      return found.length > 0 ? found : undefined;
    });
    expect(mails[0]?.headers["idempotency-key"]).toBe(`payment_completed:${orderId}`);
    const orders = await json<{ items: { status: string; completedAt: number | null }[] }>(
      await call("/v1/credits/orders", { token: student.token }),
    );
    expect(orders.items[0]?.status).toBe("completed");
    expect(orders.items[0]?.completedAt).toEqual(expect.any(Number));
    // the outgoing webhooks' event, written in the crediting batch
    expect(await eventTypesOf(orderId)).toEqual(["credits.purchased"]);
  });

  it("credits exactly once for 5 concurrent duplicates plus a second event object", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const event = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id });
    const other = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id });
    const results = await Promise.all([...Array.from({ length: 5 }, () => deliver(event)), deliver(other)]);
    for (const r of results) expect(r.status).toBe(200);
    // At least the first delivery found the order pending and enqueued its job.
    const actions = await Promise.all(results.map(async (r) => (await json<{ action: string }>(r)).action));
    expect(actions).toContain("enqueued");
    await waitForStatus(orderId, "completed");
    // Both event ids reach their processed marker; the barrier then proves every duplicate job the
    // webhook enqueued has run as well (they were all sent before it), so the counts below are final.
    await processed(event.id);
    await processed(other.id);
    await queueBarrier("PAYMENTS");
    const rows = await ledgerRows(student.id);
    expect(rows).toHaveLength(1);
    expect(await eventTypesOf(orderId)).toEqual(["credits.purchased"]);
    expect(await balance(student.id)).toBe(5);
    expect(await notifications(student.id, "payment_completed")).toHaveLength(1);
    // Exactly one "payment completed" mail reached the provider: every job that ran after the credit
    // asked for it again under the same key, and the e-mail job sends once per key. The barrier on the
    // jobs queue (where e-mails go) makes "one" final rather than "one so far".
    await eventually(async () => ((await fakeRequests("/emails", student.email)).length > 0 ? true : undefined));
    await queueBarrier("JOBS");
    const mails = await fakeRequests("/emails", student.email);
    expect(mails.map((m) => m.headers["idempotency-key"])).toEqual([`payment_completed:${orderId}`]);
  });

  it("never lets expired/failed override completed, nor a late paid event revive a failed order", async () => {
    const student = await createUser("student");
    const a = await checkout(student);
    await deliver(
      checkoutEvent("checkout.session.completed", { id: a.checkoutSessionId, orderId: a.orderId, userId: student.id }),
    );
    await waitForStatus(a.orderId, "completed");
    const late = await deliver(
      checkoutEvent("checkout.session.expired", { id: a.checkoutSessionId, orderId: a.orderId, userId: student.id }),
    );
    expect(await json(late)).toMatchObject({ action: "ignored" });
    // The webhook settles "nothing to do" itself (no job): the answer says so and the marker is set.
    const lateFailedEvent = checkoutEvent("checkout.session.async_payment_failed", {
      id: a.checkoutSessionId,
      orderId: a.orderId,
      userId: student.id,
    });
    expect(await json(await deliver(lateFailedEvent))).toMatchObject({ action: "ignored" });
    expect(await processed(lateFailedEvent.id)).toMatch(/^ignored: order already completed/);
    expect(await orderStatus(a.orderId)).toBe("completed");

    const b = await checkout(student);
    await deliver(
      checkoutEvent("checkout.session.async_payment_failed", {
        id: b.checkoutSessionId,
        orderId: b.orderId,
        userId: student.id,
      }),
    );
    await waitForStatus(b.orderId, "failed");
    expect(await notifications(student.id, "payment_failed")).toHaveLength(1);
    const latePaid = checkoutEvent("checkout.session.async_payment_succeeded", {
      id: b.checkoutSessionId,
      orderId: b.orderId,
      userId: student.id,
    });
    // A payment for a failed order is given back (stripe.refund_payment), never credited.
    expect(await json(await deliver(latePaid))).toMatchObject({ action: "enqueued" });
    await processed(latePaid.id);
    expect(await orderStatus(b.orderId)).toBe("failed");
    expect(await balance(student.id)).toBe(5);
    expect(await cardRefundsOf(b.orderId)).toEqual([
      expect.objectContaining({ reason: "late_payment", credits: 0, amountCents: 5000 }),
    ]);

    const c = await checkout(student);
    await deliver(
      checkoutEvent("checkout.session.expired", { id: c.checkoutSessionId, orderId: c.orderId, userId: student.id }),
    );
    await waitForStatus(c.orderId, "expired");
    const orders = await json<{ items: { id: string; expiredAt: number | null }[] }>(
      await call("/v1/credits/orders", { token: student.token }),
    );
    expect(orders.items.find((o) => o.id === c.orderId)?.expiredAt).toEqual(expect.any(Number));
  });

  it("waits for an async payment: completed+unpaid is ignored, async_payment_succeeded credits", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const unpaid = await deliver(
      checkoutEvent("checkout.session.completed", {
        id: checkoutSessionId,
        orderId,
        userId: student.id,
        paymentStatus: "unpaid",
      }),
    );
    expect(await json(unpaid)).toMatchObject({ action: "ignored" });
    expect(await orderStatus(orderId)).toBe("pending");
    await deliver(
      checkoutEvent("checkout.session.async_payment_succeeded", { id: checkoutSessionId, orderId, userId: student.id }),
    );
    await waitForStatus(orderId, "completed");
    expect(await balance(student.id)).toBe(5);
  });

  it("rejects bad, stale and missing signatures with 400 and changes nothing", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const event = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id });
    await expectProblem(await deliver(event, { secret: "whsec_wrong" }), 400, "validation_failed");
    await expectProblem(
      await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      400,
      "validation_failed",
    );
    await expectProblem(await deliver(event, { header: "t=1,v1=deadbeef" }), 400, "validation_failed");
    const missing = await call("/v1/webhooks/stripe", {
      method: "POST",
      rawBody: JSON.stringify(event),
      headers: { "content-type": "application/json" },
    });
    await expectProblem(missing, 400, "validation_failed");
    // signed over another body
    const header = await signedHeader(JSON.stringify({ ...event, id: "evt_other" }));
    await expectProblem(await deliver(event, { header }), 400, "validation_failed");
    const seen = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripeEvents WHERE id = ?")
      .bind(event.id)
      .first<{ n: number }>();
    expect(seen?.n).toBe(0);
    // A refused delivery must not have enqueued anything: once a barrier sent after every delivery has
    // run, anything they had enqueued would have run too.
    await queueBarrier("PAYMENTS");
    expect(await orderStatus(orderId)).toBe("pending");
  });

  it("acknowledges unknown event types, unknown orders and malformed objects without changes", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const unknownTypeEvent = checkoutEvent("invoice.paid", { id: checkoutSessionId, orderId, userId: student.id });
    const unknownType = await deliver(unknownTypeEvent);
    expect(unknownType.status).toBe(200);
    expect(await json(unknownType)).toMatchObject({ action: "ignored" });
    const unknownOrderEvent = checkoutEvent("checkout.session.completed", {
      id: "cs_test_unknown",
      orderId: "ord_nope",
      userId: student.id,
    });
    const unknownOrder = await deliver(unknownOrderEvent);
    expect(await json(unknownOrder)).toMatchObject({ action: "ignored", reason: "unknown order" });
    const mismatchEvent = checkoutEvent("checkout.session.completed", {
      id: "cs_test_other",
      orderId,
      userId: student.id,
    });
    const mismatch = await deliver(mismatchEvent);
    expect(await json(mismatch)).toMatchObject({ action: "ignored" });
    const malformedId = `evt_malformed_${crypto.randomUUID().slice(0, 8)}`;
    const malformed = await deliver({
      id: malformedId,
      object: "event",
      type: "checkout.session.completed",
      data: { object: {} },
    });
    expect(malformed.status).toBe(200);
    // Each was settled by the webhook itself as "ignored" (no job): its processed marker says so.
    for (const id of [unknownTypeEvent.id, unknownOrderEvent.id, mismatchEvent.id, malformedId]) {
      expect(await processed(id), id).toMatch(/^ignored: /);
    }
    const notJson = await call("/v1/webhooks/stripe", {
      method: "POST",
      rawBody: "not json",
      headers: { "content-type": "application/json", "stripe-signature": await signedHeader("not json") },
    });
    await expectProblem(notJson, 400, "validation_failed");
    // Nothing was enqueued either: a barrier sent after every delivery has run, and the order is untouched.
    await queueBarrier("PAYMENTS");
    expect(await orderStatus(orderId)).toBe("pending");
    expect(await balance(student.id)).toBe(0);
  });

  async function runBatchTwice(
    messages: { id: string; timestamp: number; attempts: number; body: unknown }[],
    afterEachRound: () => Promise<void>,
  ) {
    for (let round = 0; round < 2; round++) {
      const batch = createMessageBatch("tutorloop-payments", messages);
      const ctx = createExecutionContext();
      await handleQueue(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks.sort()).toEqual(messages.map((m) => m.id).sort());
      expect(result.retryMessages).toEqual([]);
      await afterEachRound();
    }
  }
  const fulfil = (orderId: string, eventId: string, outcome: string) => ({
    id: `m-${eventId}`,
    timestamp: Date.now(),
    attempts: 1,
    body: { type: "stripe.fulfil", orderId, eventId, outcome },
  });

  it("the same queue batch delivered twice changes nothing the second time: paid then expired", async () => {
    const student = await createUser("student");
    const { orderId } = await checkout(student);
    const tag = crypto.randomUUID().slice(0, 8);
    await runBatchTwice(
      [fulfil(orderId, `evt_paid_${tag}`, "paid"), fulfil(orderId, `evt_expired_${tag}`, "expired")],
      async () => {
        expect(await ledgerRows(student.id)).toHaveLength(1);
        expect(await orderStatus(orderId)).toBe("completed");
      },
    );
    expect(await balance(student.id)).toBe(5);
    expect(await cardRefundsOf(orderId)).toEqual([]);
  });

  it("the same queue batch delivered twice: expired then paid is never credited, and the payment is refunded once", async () => {
    const student = await createUser("student");
    const { orderId } = await checkout(student);
    const paymentIntent = `pi_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    // As the webhook does before enqueueing: it records the payment intent of the session.
    await env.DB.prepare("UPDATE creditPurchaseOrders SET stripePaymentIntentId = ? WHERE id = ?")
      .bind(paymentIntent, orderId)
      .run();
    const tag = crypto.randomUUID().slice(0, 8);
    const paidEvent = `evt_paid_${tag}`;
    await runBatchTwice(
      [fulfil(orderId, `evt_expired_${tag}`, "expired"), fulfil(orderId, paidEvent, "paid")],
      async () => {
        expect(await ledgerRows(student.id)).toEqual([]);
        expect(await orderStatus(orderId)).toBe("expired");
      },
    );
    // Each round's paid job enqueued a stripe.refund_payment on the payments queue (the event's processed
    // marker is already set by the fulfil job itself, so it says nothing here): a barrier sent after
    // both proves both refund jobs have run.
    await queueBarrier("PAYMENTS");
    expect(await balance(student.id)).toBe(0);
    expect(await ledgerRows(student.id)).toEqual([]);
    const refunds = await cardRefundsOf(orderId);
    expect(refunds).toEqual([
      expect.objectContaining({
        idempotencyKey: `late:${orderId}:${paymentIntent}`,
        reason: "late_payment",
        credits: 0,
        amountCents: 5000,
      }),
    ]);
    // The job ran to its end (the emulator may refuse POST /v1/refunds: then `failed`, never `pending`).
    expect(["succeeded", "failed"]).toContain(refunds[0]?.status);
  });

  it("backs off exponentially, capped at 5 minutes", () => {
    expect([1, 2, 3, 4, 10].map(backoffSeconds)).toEqual([5, 10, 20, 40, 300]);
  });

  it("records invalid queue messages as dead letters and acks them; DLQ messages are recorded once", async () => {
    const id = `bad-${crypto.randomUUID()}`;
    const batch = createMessageBatch("tutorloop-jobs", [
      { id, timestamp: Date.now(), attempts: 1, body: { type: "stripe.fulfil" } },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([id]);
    const dlqId = `dlq-${crypto.randomUUID()}`;
    for (let i = 0; i < 2; i++) {
      const dlq = createMessageBatch("tutorloop-jobs-dlq", [
        {
          id: dlqId,
          timestamp: Date.now(),
          attempts: 6,
          body: { type: "stripe.fulfil", orderId: "ord_1", eventId: "e", outcome: "paid" },
        },
      ]);
      const c2 = createExecutionContext();
      await handleQueue(dlq, env, c2);
      expect((await getQueueResult(dlq, c2)).explicitAcks).toEqual([dlqId]);
    }
    const rows = await env.DB.prepare("SELECT messageId, type FROM deadLetters WHERE messageId IN (?, ?)")
      .bind(id, dlqId)
      .all();
    expect(rows.results).toHaveLength(2);
  });

  it("retries a job whose provider fails transiently, with backoff", async () => {
    const id = `mail-${crypto.randomUUID()}`;
    const to = `retry.${crypto.randomUUID().slice(0, 6)}@example.test`;
    const { failNext } = await import("../helpers/api");
    await failNext("/emails", 503, { match: to });
    const batch = createMessageBatch("tutorloop-jobs", [
      {
        id,
        timestamp: Date.now(),
        attempts: 2,
        body: { type: "email.send", idempotencyKey: id, to, subject: "s", text: "t", html: "<p>t</p>" },
      },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([id]);
    expect(result.explicitAcks).toEqual([]);
  });
});
