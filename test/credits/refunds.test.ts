/** Card refunds and disputes from Stripe: credits follow the money, exactly, under replays and reordering. */
import { describe, expect, it } from "vitest";
import type { LedgerEntryView, OrderView } from "../../src/modules/credits/schemas";
import { call, createUser, env, eventually, expectProblem, fakeRequests, json } from "../helpers/api";
import { eventTypesOf } from "../integrations/helpers";
import { book, createSubject, createTutor, slotAt } from "../sessions/helpers";
import {
  chainHolds,
  chargeRefunded,
  deliverConcurrently,
  disputeEvent,
  entriesOf,
  orderMoney,
  paidOrder,
  processed,
} from "./charge-events";
import { balance, checkout, checkoutEvent, deliver, waitForStatus } from "./helpers";

describe("charge.refunded", () => {
  it("reverses ceil(credits × refunded / amount), cumulatively, one entry per step, whatever the replays", async () => {
    const { student, orderId, paymentIntent } = await paidOrder();
    // 2000 of 5000 cents → 2 credits; 2001 → ceil(2.001) = 3 (one more); 5000 → 5 (two more)
    const steps = [
      { refunded: 2000, reversed: 2 },
      { refunded: 2001, reversed: 3 },
      { refunded: 5000, reversed: 5 },
    ];
    for (const step of steps) {
      const event = chargeRefunded(paymentIntent, step.refunded);
      await deliverConcurrently(event, 3);
      await processed(event.id);
      expect(await orderMoney(orderId)).toMatchObject({ refundedCents: step.refunded, reversedCredits: step.reversed });
      expect(await balance(student.id)).toBe(5 - step.reversed);
    }
    // an older state of the charge, delivered late as a new event object, changes nothing
    const late = chargeRefunded(paymentIntent, 2000);
    await deliver(late);
    expect(await processed(late.id)).toBe("nothing: already applied");
    const reversals = await entriesOf(student.id, "purchase_reversal");
    expect(reversals.map((r) => r.amount)).toEqual([2, 1, 2]);
    // one credits.reversed per reversal step, none for the replays and the late state
    expect(await eventTypesOf(orderId)).toEqual([
      "credits.purchased",
      "credits.reversed",
      "credits.reversed",
      "credits.reversed",
    ]);
    expect(await orderMoney(orderId)).toMatchObject({ refundedCents: 5000, reversedCredits: 5 });
    expect(await chainHolds(student.id)).toBe(0);
    const notes = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM notifications WHERE userId = ? AND type = 'payment_refunded'",
    )
      .bind(student.id)
      .first<{ n: number }>();
    expect(notes?.n).toBe(3);
    const mails = await eventually(async () => {
      const found = (await fakeRequests("/emails", student.email)).filter((m) => m.body.includes("refunded"));
      return found.length >= 3 ? found : undefined;
    });
    expect(new Set(mails.map((m) => m.headers["idempotency-key"])).size).toBe(mails.length);
    const ledger = await json<{ items: LedgerEntryView[] }>(await call("/v1/credits/ledger", { token: student.token }));
    expect(ledger.items[0]?.source).toBe("purchase_reversal");
    const orders = await json<{ items: OrderView[] }>(await call("/v1/credits/orders", { token: student.token }));
    expect(orders.items[0]).toMatchObject({
      paymentIntentId: paymentIntent,
      refundedCents: 5000,
      reversedCredits: 5,
      disputeStatus: null,
    });
  });

  it("a refund that arrives before the checkout event is applied once the order is credited", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    const paymentIntent = `pi_${checkoutSessionId.slice(-12)}`;
    const refund = chargeRefunded(paymentIntent, 5000);
    expect((await deliver(refund)).status).toBe(200);
    await deliver(checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id }));
    await waitForStatus(orderId, "completed");
    // the refund job retried (with backoff) until the order knew its payment and was credited
    expect(await processed(refund.id, 30_000)).toBe("reversed 5");
    expect(await balance(student.id)).toBe(0);
    expect(await chainHolds(student.id)).toBe(0);
  }, 45_000);

  it("a refund of a payment whose order was never credited moves no credits", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student);
    await deliver(checkoutEvent("checkout.session.expired", { id: checkoutSessionId, orderId, userId: student.id }));
    await waitForStatus(orderId, "expired");
    await env.DB.prepare("UPDATE creditPurchaseOrders SET stripePaymentIntentId = ? WHERE id = ?")
      .bind(`pi_${checkoutSessionId.slice(-12)}`, orderId)
      .run();
    const refund = chargeRefunded(`pi_${checkoutSessionId.slice(-12)}`, 5000);
    await deliver(refund);
    expect(await processed(refund.id)).toBe("nothing: order expired");
    expect(await balance(student.id)).toBe(0);
  });
});

describe("disputes", () => {
  it("after the credits were spent: negative balance, booking 402, a purchase brings it back, won reinstates once", async () => {
    const subject = await createSubject();
    const tutor = await createTutor(subject.id, { price: 2 });
    const { student, orderId, paymentIntent } = await paidOrder();
    expect((await book(student, tutor, subject.id, slotAt(48), 120)).status).toBe(201); // 4 credits spent
    expect(await balance(student.id)).toBe(1);

    const opened = disputeEvent("charge.dispute.created", paymentIntent, "du_1", "needs_response");
    await deliverConcurrently(opened, 3);
    expect(await processed(opened.id)).toBe("reversed 5");
    expect(await balance(student.id)).toBe(-4);
    expect(await orderMoney(orderId)).toMatchObject({
      disputeStatus: "open",
      reversedCredits: 5,
      disputeReversedCredits: 5,
    });
    expect(await json(await call("/v1/credits/balance", { token: student.token }))).toEqual({ balance: -4 });
    await expectProblem(await book(student, tutor, subject.id, slotAt(72), 30), 402, "insufficient_credits");
    const admins = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.userId WHERE n.type = 'payment_disputed' AND u.context = 'admin'",
    ).first<{ n: number }>();
    expect(admins?.n).toBeGreaterThanOrEqual(1);

    await paidOrder(student); // +5
    expect(await balance(student.id)).toBe(1);

    const won = disputeEvent("charge.dispute.closed", paymentIntent, "du_1", "won");
    await deliverConcurrently(won, 3);
    expect(await processed(won.id)).toBe("reinstated 5");
    const again = disputeEvent("charge.dispute.closed", paymentIntent, "du_1", "won");
    await deliver(again);
    expect(await processed(again.id)).toBe("nothing: already applied");
    expect(await balance(student.id)).toBe(6);
    expect((await entriesOf(student.id, "purchase_reinstated")).map((e) => e.amount)).toEqual([5]);
    expect(await orderMoney(orderId)).toMatchObject({
      disputeStatus: "won",
      reversedCredits: 0,
      disputeReversedCredits: 0,
    });
    expect(await chainHolds(student.id)).toBe(6);
  });

  it("lost keeps the reversal; a dispute after a partial refund reverses only the rest", async () => {
    const { student, orderId, paymentIntent } = await paidOrder();
    const refund = chargeRefunded(paymentIntent, 1000);
    await deliver(refund);
    await processed(refund.id);
    const opened = disputeEvent("charge.dispute.created", paymentIntent, "du_2", "needs_response", 4000);
    await deliver(opened);
    expect(await processed(opened.id)).toBe("reversed 4");
    const lost = disputeEvent("charge.dispute.closed", paymentIntent, "du_2", "lost", 4000);
    await deliver(lost);
    await processed(lost.id);
    expect(await orderMoney(orderId)).toMatchObject({ disputeStatus: "lost", reversedCredits: 5 });
    expect(await balance(student.id)).toBe(0);
    expect(await chainHolds(student.id)).toBe(0);
  });

  it("a close seen before its open settles it directly, and the late open changes nothing", async () => {
    const { student, orderId, paymentIntent } = await paidOrder();
    const won = disputeEvent("charge.dispute.closed", paymentIntent, "du_3", "won");
    await deliver(won);
    await processed(won.id);
    const opened = disputeEvent("charge.dispute.created", paymentIntent, "du_3", "needs_response");
    await deliver(opened);
    expect(await processed(opened.id)).toBe("nothing: already applied");
    expect(await orderMoney(orderId)).toMatchObject({ disputeStatus: "won", reversedCredits: 0 });
    expect(await balance(student.id)).toBe(5);
    // warning_closed (an inquiry that never became a dispute) is not a verdict: acknowledged, ignored
    const inquiry = disputeEvent("charge.dispute.closed", paymentIntent, "du_3", "warning_closed");
    expect(await json(await deliver(inquiry))).toMatchObject({ action: "ignored" });
  });
});

describe("payments that do not match their order", () => {
  it("a paid checkout whose amount differs is never credited and is recorded for admins", async () => {
    const student = await createUser("student");
    const { orderId, checkoutSessionId } = await checkout(student, "pack_20"); // 18000 cents
    const event = checkoutEvent("checkout.session.completed", { id: checkoutSessionId, orderId, userId: student.id }); // 5000
    expect(await json(await deliver(event))).toMatchObject({ action: "ignored" });
    expect(await processed(event.id)).toContain("amount 5000 != 18000");
    expect(await balance(student.id)).toBe(0);
    const dead = await env.DB.prepare("SELECT type, body FROM deadLetters WHERE messageId = ?")
      .bind(`mismatch:${event.id}`)
      .first<{ type: string; body: string }>();
    expect(dead?.type).toBe("payment.mismatch");
    const live = { ...event, id: `${event.id}_live`, livemode: true };
    live.data.object.amount_total = 18000;
    await deliver(live);
    expect(await processed(live.id)).toContain("livemode");
    expect(await balance(student.id)).toBe(0);
  });
});
