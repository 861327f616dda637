/** Payment recovery: the pending-order sweep, late payments, exhausted jobs, dead-letter replay, adjustments. */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { jobContext } from "../../src/jobs/context";
import { recoverPendingOrders } from "../../src/modules/credits/recovery";
import { dispatch, handleQueue } from "../../src/queues/consumer";
import type { QueueMessage } from "../../src/queues/messages";
import { call, createUser, env, expectProblem, fakeRequests, json, productionEnv } from "../helpers/api";
import { processed } from "./charge-events";
import { balance, checkout, checkoutEvent, deliver, ledgerRows, orderStatus, waitForStatus } from "./helpers";

const MIN = 60_000;
const advance = (advanceMs: number) => call("/v1/dev/clock", { body: { advanceMs } });
afterEach(async () => {
  await call("/v1/dev/clock", { body: { reset: true } });
});

describe("test clock", () => {
  it("moves now for routes and jobs, cumulatively, and resets", async () => {
    const before = await json<{ now: number; offsetMs: number }>(await call("/v1/dev/clock"));
    expect(before.offsetMs).toBe(0);
    await advance(2 * MIN);
    const after = await json<{ now: number; offsetMs: number }>(await advance(3 * MIN));
    expect(after.offsetMs).toBe(5 * MIN);
    expect(after.now - Date.now()).toBeGreaterThan(5 * MIN - 5_000);
    expect((await jobContext(env, "t")).clock.offsetMs).toBe(5 * MIN);
    await expectProblem(await call("/v1/dev/clock", { body: { advanceMs: -1 } }), 400, "validation_failed");
    await expectProblem(await call("/v1/dev/clock", { body: { reset: false } }), 400, "validation_failed");
    expect(await json(await call("/v1/dev/clock", { body: { reset: true } }))).toMatchObject({ offsetMs: 0 });
  });

  it("does not exist in production", async () => {
    const { createApp } = await import("../../src/app");
    const prod = productionEnv();
    for (const method of ["GET", "POST"]) {
      const res = await createApp().fetch(
        new Request("http://api.test/v1/dev/clock", {
          method,
          headers: { "content-type": "application/json" },
          body: method === "POST" ? JSON.stringify({ advanceMs: 1 }) : undefined,
        }),
        prod,
        createExecutionContext(),
      );
      await expectProblem(res, 404, "not_found");
    }
  });
});

async function payAtStripeOnly(checkoutSessionId: string) {
  // the hosted page's Pay: Stripe now says paid, but no webhook reaches the API (none is configured here)
  const res = await fetch(`${env.FAKE_PROVIDERS_URL}/checkout/${checkoutSessionId}/pay`, { method: "POST" });
  expect(res.status).toBeLessThan(400);
}

describe("pending-order sweep", () => {
  it("credits a paid order whose webhook was lost, once, and expires an abandoned one", async () => {
    const student = await createUser("student");
    const paid = await checkout(student);
    const abandoned = await checkout(student);
    await payAtStripeOnly(paid.checkoutSessionId);
    const svc = await jobContext(env, "t");
    expect(await recoverPendingOrders(svc)).toBe(0); // too young: left to the webhook
    await advance(31 * MIN);
    const later = await jobContext(env, "t");
    expect(await recoverPendingOrders(later)).toBeGreaterThanOrEqual(2);
    expect(await orderStatus(paid.orderId)).toBe("completed");
    expect(await balance(student.id)).toBe(5);
    // asked at most once per 30 minutes, and a second run changes nothing
    const asked = (await fakeRequests(`/v1/checkout/sessions/${abandoned.checkoutSessionId}`)).filter(
      (r) => r.method === "GET",
    ).length;
    expect(await recoverPendingOrders(later)).toBe(0);
    expect(
      (await fakeRequests(`/v1/checkout/sessions/${abandoned.checkoutSessionId}`)).filter((r) => r.method === "GET"),
    ).toHaveLength(asked);
    // the abandoned checkout is still open at Stripe: it stays pending until Stripe expires it
    expect(await orderStatus(abandoned.orderId)).toBe("pending");
    await fetch(`${env.FAKE_PROVIDERS_URL}/v1/checkout/sessions/${abandoned.checkoutSessionId}/expire`, {
      method: "POST",
      headers: { authorization: "Bearer sk_test_fake" },
    });
    await advance(31 * MIN);
    await recoverPendingOrders(await jobContext(env, "t"));
    expect(await orderStatus(abandoned.orderId)).toBe("expired");
    expect(await balance(student.id)).toBe(5);
  });

  it("a paid event for an expired order refunds that payment instead of crediting it", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    await payAtStripeOnly(checkoutSessionId);
    const session = (await (
      await fetch(`${env.FAKE_PROVIDERS_URL}/v1/checkout/sessions/${checkoutSessionId}`, {
        headers: { authorization: "Bearer sk_test_fake" },
      })
    ).json()) as { payment_intent: string };
    // our side settled the order as expired first (the expiry event won the race)
    await deliver(checkoutEvent("checkout.session.expired", { id: checkoutSessionId, orderId, userId: student.id }));
    await waitForStatus(orderId, "expired");
    const paid = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id });
    paid.data.object.payment_intent = session.payment_intent;
    await deliver(paid);
    expect(await processed(paid.id)).toBe("refunded late payment");
    expect(await balance(student.id)).toBe(0);
    const refund = await env.DB.prepare(
      "SELECT reason, status, amountCents, credits FROM cardRefunds WHERE orderId = ?",
    )
      .bind(orderId)
      .first();
    expect(refund).toMatchObject({ reason: "late_payment", status: "succeeded", amountCents: 5000, credits: 0 });
    const wire = await fakeRequests("/v1/refunds", session.payment_intent);
    // one refund: every attempt (the SDK retries a 5xx) carries the same key
    expect(wire.length).toBeGreaterThanOrEqual(1);
    expect(new Set(wire.map((w) => w.headers["idempotency-key"]))).toEqual(
      new Set([`late:${orderId}:${session.payment_intent}`]),
    );
  });
});

describe("payment jobs that give up", () => {
  it("a fulfilment that exhausted its retries notifies every admin, and an admin replay credits it once", async () => {
    const admin = await createUser("admin");
    const student = await createUser("student");
    const { orderId } = await checkout(student);
    const body = { type: "stripe.fulfil", orderId, eventId: "evt_lost", outcome: "paid" };
    const batch = createMessageBatch("tutorloop-jobs-dlq", [
      { id: `dlq-${orderId}`, timestamp: new Date(), attempts: 10, body },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`dlq-${orderId}`]);
    const alert = await env.DB.prepare(
      "SELECT data FROM notifications WHERE userId = ? AND type = 'payment_job_failed'",
    )
      .bind(admin.id)
      .first<{ data: string }>();
    expect(JSON.parse(alert?.data ?? "{}")).toMatchObject({ job: "stripe.fulfil", subject: orderId, attempts: 10 });

    const dead = await env.DB.prepare("SELECT id FROM deadLetters WHERE messageId = ?")
      .bind(`dlq-${orderId}`)
      .first<{ id: string }>();
    const replay = await call(`/v1/admin/dead-letters/${dead?.id}/replay`, { method: "POST", token: admin.token });
    expect(replay.status).toBe(202);
    expect(await json(replay)).toMatchObject({ id: dead?.id, type: "stripe.fulfil", replayCount: 1 });
    await waitForStatus(orderId, "completed");
    expect(
      (await call(`/v1/admin/dead-letters/${dead?.id}/replay`, { method: "POST", token: admin.token })).status,
    ).toBe(202);
    // the same job run once more, to the end (awaited): the purchase key lets it credit nothing twice
    await dispatch(await jobContext(env, "t"), body as QueueMessage);
    expect(await balance(student.id)).toBe(5);
    expect(await ledgerRows(student.id)).toHaveLength(1);
    const list = await json<{ items: { id: string; replayCount: number }[] }>(
      await call("/v1/admin/dead-letters", { token: admin.token }),
    );
    expect(list.items.find((i) => i.id === dead?.id)?.replayCount).toBe(2);
  });

  it("replay: unknown 404, a record that is not a job 409, students 403, anonymous 401", async () => {
    const admin = await createUser("admin");
    const student = await createUser("student");
    await expectProblem(
      await call("/v1/admin/dead-letters/dlq_nope/replay", { method: "POST", token: admin.token }),
      404,
      "not_found",
    );
    await env.DB.prepare(
      "INSERT INTO deadLetters (id, messageId, queue, type, body, attempts, createdAt) VALUES ('dlq_mail', 'm-mail', 'tutorloop-jobs', 'email.send', ?, 5, ?)",
    )
      .bind(
        JSON.stringify({ body: { type: "email.send", to: "a@b.test", idempotencyKey: "k" }, reason: "x" }),
        Date.now(),
      )
      .run();
    await expectProblem(
      await call("/v1/admin/dead-letters/dlq_mail/replay", { method: "POST", token: admin.token }),
      409,
      "conflict",
    );
    await expectProblem(
      await call("/v1/admin/dead-letters/dlq_mail/replay", { method: "POST", token: student.token }),
      403,
      "forbidden",
    );
    await expectProblem(await call("/v1/admin/dead-letters/dlq_mail/replay", { method: "POST" }), 401, "unauthorized");
  });
});

describe("admin adjustments", () => {
  const adjust = (token: string, body: Record<string, unknown>, key?: string) =>
    call("/v1/admin/credits/adjustments", { token, body, headers: key ? { "idempotency-key": key } : {} });

  it("a key replayed for another user after its record is purged is 422, never the other user's entry", async () => {
    const admin = await createUser("admin");
    const a = await createUser("student");
    const b = await createUser("student");
    const first = await adjust(admin.token, { userId: a.id, type: "credit", amount: 3, description: "goodwill" }, "K1");
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotency-key")).toBe("K1");
    await env.DB.prepare("DELETE FROM idempotencyRecords WHERE key = 'K1'").run(); // as if 24 h had passed
    await expectProblem(
      await adjust(admin.token, { userId: b.id, type: "credit", amount: 3, description: "goodwill" }, "K1"),
      422,
      "idempotency_conflict",
    );
    expect(await balance(b.id)).toBe(0);
    // the same adjustment again under its key replays the first entry
    const again = await adjust(admin.token, { userId: a.id, type: "credit", amount: 3, description: "goodwill" }, "K1");
    expect(again.status).toBe(201);
    expect((await json<{ id: string }>(again)).id).toBe((await json<{ id: string }>(first)).id);
    expect(await balance(a.id)).toBe(3);
    // within 24 h the middleware answers a different body with 422 too
    await expectProblem(
      await adjust(admin.token, { userId: a.id, type: "credit", amount: 4, description: "goodwill" }, "K2").then(
        async () => adjust(admin.token, { userId: a.id, type: "credit", amount: 5, description: "goodwill" }, "K2"),
      ),
      422,
      "idempotency_conflict",
    );
    expect(await balance(a.id)).toBe(7);
  });

  it("without a key a retry after a timeout does not credit twice, and the response names the key", async () => {
    const admin = await createUser("admin");
    const a = await createUser("student");
    const body = { userId: a.id, type: "credit", amount: 2, description: "make-good for lesson 7" };
    const [one, two] = await Promise.all([adjust(admin.token, body), adjust(admin.token, body)]);
    const e1 = await json<{ id: string; idempotencyKey: string }>(one);
    const e2 = await json<{ id: string; idempotencyKey: string }>(two);
    expect(e1.id).toBe(e2.id);
    expect(e1.idempotencyKey).toMatch(/^auto-/);
    expect(await balance(a.id)).toBe(2);
    const retried = await adjust(admin.token, body, e1.idempotencyKey);
    expect((await json<{ id: string }>(retried)).id).toBe(e1.id);
    // another description is another adjustment
    await adjust(admin.token, { ...body, description: "second make-good" });
    expect(await balance(a.id)).toBe(4);
    await expectProblem(await adjust(admin.token, { ...body, userId: "usr_nope" }), 404, "not_found");
  });
});
