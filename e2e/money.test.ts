/**
 * Money after the fact, black box against the emulator: a dispute after the credits were spent takes
 * the balance below zero and blocks booking until a purchase covers it; a won dispute gives the credits
 * back once; an admin refund goes to the card through Stripe, and Stripe's refund events that follow
 * reverse nothing twice; a refusal at Stripe leaves the balance as it was; reconciliation balances.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type components, idempotencyKey, unwrap } from "../sdk/src/index.ts";
import {
  adminEmail,
  balance,
  bookAs,
  c,
  dataOf,
  expectProblemOf,
  newStudent,
  newSubject,
  newTutor,
  poll,
  type Student,
  sdkAs,
  slotIn,
  type Tokens,
} from "./helpers.ts";

type Order = components["schemas"]["PurchaseOrder"];

async function buy(s: Student, packId = "pack_5") {
  const co = dataOf(await sdkAs(s.token).POST("/v1/credits/checkout", { body: { packId } }), 201);
  const paid = await c.checkoutAction(co.checkoutUrl, "pay");
  assert.equal(paid.status, 200);
  const order = await orderWhen(s, co.orderId, (o) => o.status === "completed");
  assert.match(order.paymentIntentId ?? "", /^pi_/);
  return { ...co, order };
}

async function orderWhen(s: Student, orderId: string, ok: (o: Order) => boolean) {
  return poll(`order ${orderId}`, 20_000, async () => {
    const orders = unwrap(await sdkAs(s.token).GET("/v1/credits/orders", { params: { query: { limit: 100 } } }));
    const o = orders.items.find((x) => x.id === orderId);
    return o && ok(o) ? o : undefined;
  });
}

const balanceIs = (s: Student, expected: number) =>
  poll(`balance ${expected}`, 20_000, async () => ((await balance(s)) === expected ? true : undefined));

const control = <T>(path: string, body: unknown) =>
  c.emulator<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("money after the fact", () => {
  let admin: Tokens;
  before(async () => {
    admin = await c.login(adminEmail("money"));
  });

  it("buy → spend → dispute → negative balance → 402 → buy again → dispute won gives the credits back once", async () => {
    const subject = await newSubject(admin);
    const tutor = await newTutor(admin, [subject.id], 2);
    const s = await newStudent();
    const first = await buy(s);
    assert.equal((await bookAs(s, tutor, subject.id, slotIn(50), 120)).response.status, 201); // 4 credits
    assert.equal(await balance(s), 1);

    const { dispute } = await control<{ dispute: { id: string } }>("/__control/stripe/dispute", {
      checkoutSessionId: first.checkoutSessionId,
    });
    await balanceIs(s, -4);
    const disputed = await orderWhen(s, first.orderId, (o) => o.disputeStatus === "open");
    assert.equal(disputed.reversedCredits, 5);
    expectProblemOf(await bookAs(s, tutor, subject.id, slotIn(60), 30), 402, "insufficient_credits");
    await c.mail(s.email, /disputed/i);

    await buy(s);
    assert.equal(await balance(s), 1);

    await control(`/__control/stripe/disputes/${dispute.id}/close`, { status: "won" });
    await balanceIs(s, 6);
    await orderWhen(s, first.orderId, (o) => o.disputeStatus === "won" && o.reversedCredits === 0);
    const ledger = unwrap(await sdkAs(s.token).GET("/v1/credits/ledger"));
    assert.deepEqual(
      ledger.items
        .filter((e) => e.source !== "purchase" && e.source !== "session_booking")
        .map((e) => [e.source, e.amount]),
      [
        ["purchase_reinstated", 5],
        ["purchase_reversal", 5],
      ],
    );
    assert.equal((await bookAs(s, tutor, subject.id, slotIn(70), 30)).response.status, 201);
  });

  it("an admin refund goes to the card; Stripe's events after it reverse nothing twice; a refusal changes nothing", async () => {
    const s = await newStudent();
    const { orderId, order } = await buy(s);
    const asAdmin = sdkAs(admin.accessToken);
    const refund = (credits: number, key?: string) =>
      asAdmin.POST("/v1/admin/credits/orders/{id}/refund", {
        params: { path: { id: orderId }, ...(key ? { header: idempotencyKey(key) } : {}) },
        body: { credits },
      });

    const r1 = dataOf(await refund(2, "money-r1"), 200);
    assert.equal(r1.reversedCredits, 2);
    assert.equal(r1.refundedCents, 2000);
    assert.equal(unwrap(await refund(2, "money-r1")).reversedCredits, 2); // replay: the same answer
    // Stripe sent charge.refunded for this refund; the API processed it without a second reversal
    await poll("the refund event", 20_000, async () => {
      const sent = await c.emulator<{ type: string; deliveries: { status?: number }[] }[]>(
        `/__control/events?paymentIntent=${order.paymentIntentId}`,
      );
      return sent.some((e) => e.type === "charge.refunded" && e.deliveries.some((d) => d.status === 200))
        ? true
        : undefined;
    });
    assert.equal(await balance(s), 3);

    // a refusal at Stripe: 409 with its reason, and the credits stay
    await control("/__control/stripe/fail", {
      path: "/v1/refunds",
      status: 400,
      code: "charge_disputed",
      message: "Charge is disputed.",
    });
    expectProblemOf(await refund(1), 409, "conflict");
    assert.equal(await balance(s), 3);

    // a refund made in Stripe's dashboard (1000 cents more → ceil(5 × 3000 / 5000) = 3 reversed in all)
    await control("/__control/stripe/refund", { paymentIntent: order.paymentIntentId, amount: 1000 });
    await balanceIs(s, 2);
    const after = await orderWhen(s, orderId, (o) => o.refundedCents === 3000);
    assert.equal(after.reversedCredits, 3);

    const rest = dataOf(await refund(2), 200);
    assert.equal(rest.refundedCents, 5000);
    assert.equal(await balance(s), 0);
    expectProblemOf(await refund(1), 409, "conflict");

    const rec = unwrap(
      await asAdmin.GET("/v1/admin/reconciliation", { params: { query: { from: Date.now() - 3_600_000 } } }),
    );
    assert.equal(rec.balanced, true, JSON.stringify(rec.identities));
  });
});
