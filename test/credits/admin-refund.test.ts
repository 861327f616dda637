/** POST /v1/admin/credits/orders/:id/refund and GET /v1/admin/reconciliation. */
import { describe, expect, it } from "vitest";
import type { OrderView, ReconciliationView } from "../../src/modules/credits/schemas";
import { call, createUser, env, expectProblem, failNext, fakeRequests, json } from "../helpers/api";
import {
  chainHolds,
  chargeRefunded,
  deliverConcurrently,
  entriesOf,
  orderMoney,
  paidOrder,
  processed,
} from "./charge-events";
import { balance } from "./helpers";

const refund = (token: string, orderId: string, credits: number, key?: string) =>
  call(`/v1/admin/credits/orders/${orderId}/refund`, {
    token,
    body: { credits },
    headers: key ? { "idempotency-key": key } : {},
  });

describe("admin refund to the card", () => {
  it("reverses first, refunds through Stripe once, and the webhook that follows reverses nothing twice", async () => {
    const admin = await createUser("admin");
    const { student, orderId, paymentIntent } = await paidOrder();
    const [first, replay] = await Promise.all([
      refund(admin.token, orderId, 2, "R1"),
      refund(admin.token, orderId, 2, "R1"),
    ]);
    expect(first.status).toBe(200);
    expect([200, 409]).toContain(replay.status); // the duplicate waited for the first, or found it running
    const order = await json<OrderView>(first);
    expect(order).toMatchObject({ id: orderId, reversedCredits: 2, refundedCents: 2000, disputeStatus: null });
    const wire = await fakeRequests("/v1/refunds", paymentIntent);
    expect(wire).toHaveLength(1);
    expect(wire[0]?.body).toContain("amount=2000");
    expect(wire[0]?.headers["idempotency-key"]).toMatch(/^refund:rfd_/);
    expect(await balance(student.id)).toBe(3);

    // Stripe's charge.refunded for this very refund, delivered three times at once
    const event = chargeRefunded(paymentIntent, 2000);
    await deliverConcurrently(event, 3);
    expect(await processed(event.id)).toBe("nothing: already applied");
    expect((await entriesOf(student.id, "purchase_reversal")).map((e) => e.amount)).toEqual([2]);
    expect(await orderMoney(orderId)).toMatchObject({ reversedCredits: 2, refundedCents: 2000 });
    const row = await env.DB.prepare("SELECT status, stripeRefundId, actorUserId FROM cardRefunds WHERE orderId = ?")
      .bind(orderId)
      .first();
    expect(row).toMatchObject({ status: "succeeded", actorUserId: admin.id });

    // the rest: exactly the cents left, so two partial refunds refund the whole payment
    const rest = await refund(admin.token, orderId, 3);
    expect(await json(rest)).toMatchObject({ reversedCredits: 5, refundedCents: 5000 });
    await expectProblem(await refund(admin.token, orderId, 1), 409, "conflict");
    expect(await chainHolds(student.id)).toBe(0);
  });

  it("a Stripe refusal or outage leaves the balance as it was (purchase_reinstated)", async () => {
    const admin = await createUser("admin");
    const { student, orderId, paymentIntent } = await paidOrder();
    // failures are matched to this payment, so parallel test files never consume them
    await failNext("/v1/refunds", 400, {
      match: paymentIntent,
      body: { error: { type: "invalid_request_error", code: "charge_disputed", message: "Charge is disputed." } },
    });
    const refused = await expectProblem(await refund(admin.token, orderId, 2), 409, "conflict");
    expect(String(refused.detail)).toContain("disputed");
    expect(await balance(student.id)).toBe(5);
    await failNext("/v1/refunds", 500, { match: paymentIntent, times: 3 }); // the SDK tries 3 times
    await expectProblem(await refund(admin.token, orderId, 2), 503, "provider_unavailable");
    expect(await balance(student.id)).toBe(5);
    expect((await entriesOf(student.id, "purchase_reinstated")).map((e) => e.amount)).toEqual([2, 2]);
    expect(await orderMoney(orderId)).toMatchObject({ reversedCredits: 0, refundedCents: 0 });
    expect(await chainHolds(student.id)).toBe(5);
  });

  it("refuses more than is left or held, unpaid orders, and non-admins", async () => {
    const admin = await createUser("admin");
    const other = await createUser("student");
    const { student, orderId } = await paidOrder();
    await expectProblem(await refund(admin.token, orderId, 6), 409, "conflict");
    const spend = await call("/v1/admin/credits/adjustments", {
      token: admin.token,
      body: { userId: student.id, type: "debit", amount: 4, description: "spent" },
    });
    expect(spend.status).toBe(201);
    await expectProblem(await refund(admin.token, orderId, 2), 409, "conflict"); // holds only 1
    await expectProblem(await refund(admin.token, "ord_nope", 1), 404, "not_found");
    await expectProblem(await refund(other.token, orderId, 1), 403, "forbidden");
    await expectProblem(await refund(student.token, orderId, 1), 403, "forbidden");
    await expectProblem(
      await call(`/v1/admin/credits/orders/${orderId}/refund`, { body: { credits: 1 } }),
      401,
      "unauthorized",
    );
    await expectProblem(await refund(admin.token, orderId, 0), 400, "validation_failed");
    expect(await balance(student.id)).toBe(1);
  });
});

describe("reconciliation", () => {
  it("adds up purchases, reversals, refunds and adjustments, and names an order that breaks an identity", async () => {
    const admin = await createUser("admin");
    const from = Date.now() - 1000;
    const get = async () =>
      json<ReconciliationView>(
        await call(`/v1/admin/reconciliation?from=${from}&to=${Date.now() + 1000}`, { token: admin.token }),
      );
    const before = await get();
    const { student, orderId, paymentIntent } = await paidOrder();
    const event = chargeRefunded(paymentIntent, 1000);
    await deliverConcurrently(event, 1);
    await processed(event.id);
    await call("/v1/admin/credits/adjustments", {
      token: admin.token,
      body: { userId: student.id, type: "credit", amount: 2, description: "goodwill" },
    });
    const ok = await get();
    expect(ok.balanced).toBe(true);
    const delta = (k: keyof ReconciliationView["credits"]) => ok.credits[k] - before.credits[k];
    expect([delta("sold"), delta("reversedByRefunds"), delta("adjustedByAdmins"), delta("netChange")]).toEqual([
      5, 1, 2, 6,
    ]);
    expect(ok.cents.paid - before.cents.paid).toBe(5000);
    // an order whose reversedCredits disagrees with its ledger entries is named
    await env.DB.prepare("UPDATE creditPurchaseOrders SET reversedCredits = 3 WHERE id = ?").bind(orderId).run();
    const broken = await get();
    expect(broken.balanced).toBe(false);
    expect(broken.identities.find((i) => !i.holds)?.offendingIds).toContain(orderId);
    await expectProblem(await call("/v1/admin/reconciliation", { token: student.token }), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/reconciliation?from=abc", { token: admin.token }),
      400,
      "validation_failed",
    );
    // one request reads at most 31 days of rows: a longer (or empty) range is refused, not a 5xx later
    for (const q of [`from=0&to=${Date.now()}`, `from=${Date.now()}&to=${Date.now() - 1}`]) {
      await expectProblem(
        await call(`/v1/admin/reconciliation?${q}`, { token: admin.token }),
        400,
        "validation_failed",
      );
    }
  });
});
