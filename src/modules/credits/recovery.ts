/**
 * Payment recovery: nothing paid is ever left uncredited or kept without credits.
 * - The pending-order sweep asks Stripe about every order still `pending` 30 minutes after it was
 *   created (each at most once per 30 minutes) and settles it exactly as the webhook would.
 * - A payment for an order already `failed` / `expired` is refunded to the card (`stripe.refund_payment`).
 * - A payment job that exhausted its retries alerts every admin.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { cardRefunds, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { newId } from "../../lib/crypto";
import { ProviderError } from "../../providers/errors";
import { createRefund, retrieveCheckoutSession } from "../../providers/stripe";
import { enqueueEmail } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { insertAdminNotifications } from "../notifications/store";
import { markEventProcessed } from "../webhooks/stripe";
import { fulfilOrderJob } from "./fulfil";
import { paymentMismatch, recordMismatch } from "./payment-checks";

export const RECOVERY_AGE_MS = 30 * 60 * 1000;
const RECOVERY_BATCH = 25;

type RefundPaymentMessage = Extract<QueueMessage, { type: "stripe.refund_payment" }>;

export async function refundPaymentJob(svc: ServiceContext, m: RefundPaymentMessage): Promise<void> {
  const key = `late:${m.orderId}:${m.paymentIntent}`;
  const now = svc.clock.now();
  await svc.db
    .insert(cardRefunds)
    .values({
      id: newId("rfd"),
      orderId: m.orderId,
      idempotencyKey: key,
      amountCents: m.amountCents,
      credits: 0,
      reason: "late_payment",
      status: "pending",
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  const row = await svc.db.query.cardRefunds.findFirst({ where: eq(cardRefunds.idempotencyKey, key) });
  if (row?.status !== "pending") {
    await markEventProcessed(svc, m.eventId, `nothing: late payment refund ${row?.status ?? "missing"}`);
    return;
  }
  try {
    const refund = await createRefund(svc.config, {
      paymentIntent: m.paymentIntent,
      amountCents: m.amountCents,
      idempotencyKey: key,
      metadata: { orderId: m.orderId, reason: "payment for a closed checkout" },
    });
    await svc.db
      .update(cardRefunds)
      .set({ status: "succeeded", stripeRefundId: refund.id, updatedAt: svc.clock.now() })
      .where(eq(cardRefunds.id, row.id));
  } catch (err) {
    if (err instanceof ProviderError && !err.transient) {
      await svc.db
        .update(cardRefunds)
        .set({ status: "failed", failureReason: err.message.slice(0, 500), updatedAt: svc.clock.now() })
        .where(eq(cardRefunds.id, row.id));
      await markEventProcessed(svc, m.eventId, "late payment refund refused by Stripe");
    }
    throw err; // transient: retried; permanent: recorded as a dead letter for admins at once
  }
  const order = await svc.db.query.creditPurchaseOrders.findFirst({
    where: (o, { eq }) => eq(o.id, m.orderId),
    columns: { userId: true, currency: true },
  });
  const user = order
    ? await svc.db.query.users.findFirst({ where: eq(users.id, order.userId), columns: { email: true } })
    : undefined;
  if (user && order) {
    await enqueueEmail(svc, {
      to: user.email,
      idempotencyKey: `payment_returned:${key}`,
      ...templates.paymentReturned(m.amountCents, order.currency),
    });
  }
  await markEventProcessed(svc, m.eventId, "refunded late payment");
}

/** One pass of the pending-order sweep; returns how many orders it asked Stripe about. */
export async function recoverPendingOrders(svc: ServiceContext, now = svc.clock.now()): Promise<number> {
  if (!svc.config.STRIPE_SECRET_KEY) return 0;
  const { results } = await svc.d1
    .prepare(
      `SELECT id, stripeCheckoutSessionId, totalCents, currency FROM creditPurchaseOrders
WHERE status = 'pending' AND createdAt <= ? AND (recoveryCheckedAt IS NULL OR recoveryCheckedAt <= ?)
ORDER BY createdAt, id LIMIT ?`,
    )
    .bind(now - RECOVERY_AGE_MS, now - RECOVERY_AGE_MS, RECOVERY_BATCH)
    .all<{ id: string; stripeCheckoutSessionId: string | null; totalCents: number; currency: string }>();
  let asked = 0;
  for (const order of results) {
    // Claim the check first: a doubled cron run asks Stripe about each order once.
    const claim = await svc.d1
      .prepare(
        "UPDATE creditPurchaseOrders SET recoveryCheckedAt = ? WHERE id = ? AND status = 'pending' AND (recoveryCheckedAt IS NULL OR recoveryCheckedAt <= ?)",
      )
      .bind(now, order.id, now - RECOVERY_AGE_MS)
      .run();
    if (claim.meta.changes === 0) continue;
    const eventId = `recovery:${order.id}:${now}`;
    if (!order.stripeCheckoutSessionId) {
      // The checkout was never created (the request died between the two writes): nothing can be paid.
      await fulfilOrderJob(svc, { type: "stripe.fulfil", orderId: order.id, eventId, outcome: "failed" });
      continue;
    }
    asked++;
    let session: Awaited<ReturnType<typeof retrieveCheckoutSession>>;
    try {
      session = await retrieveCheckoutSession(svc.config, order.stripeCheckoutSessionId);
    } catch (err) {
      console.log(
        JSON.stringify({ level: "warn", msg: "recovery: stripe unavailable", orderId: order.id, error: String(err) }),
      );
      continue;
    }
    const paid = session.payment_status === "paid" || session.payment_status === "no_payment_required";
    if (paid) {
      const mismatch = paymentMismatch(svc.config, order, {
        amount: session.amount_total ?? null,
        currency: session.currency ?? null,
        livemode: session.livemode,
      });
      if (mismatch) {
        await recordMismatch(svc, { orderId: order.id, eventId, reason: mismatch });
        continue;
      }
      const pi = typeof session.payment_intent === "string" ? session.payment_intent : session.payment_intent?.id;
      if (pi) {
        await svc.d1
          .prepare(
            "UPDATE creditPurchaseOrders SET stripePaymentIntentId = ? WHERE id = ? AND stripePaymentIntentId IS NULL",
          )
          .bind(pi, order.id)
          .run();
      }
      await fulfilOrderJob(svc, { type: "stripe.fulfil", orderId: order.id, eventId, outcome: "paid" });
    } else if (session.status === "expired") {
      await fulfilOrderJob(svc, { type: "stripe.fulfil", orderId: order.id, eventId, outcome: "expired" });
    }
  }
  return asked;
}

/** A payment job gave up: every admin is told, in-app, with what to look at. */
export async function alertPaymentJobExhausted(svc: ServiceContext, m: QueueMessage, attempts: number) {
  if (!m.type.startsWith("stripe.") && !m.type.startsWith("payouts.")) return;
  const subject =
    "orderId" in m
      ? m.orderId
      : "paymentIntent" in m
        ? m.paymentIntent
        : "payoutId" in m
          ? m.payoutId
          : "runId" in m
            ? m.runId
            : "unknown";
  await svc.d1.batch([
    insertAdminNotifications(svc.d1, {
      type: "payment_job_failed",
      data: { job: m.type, subject, attempts },
      dedupeKey: `payment_job_failed:${m.type}:${subject}:${"eventId" in m ? m.eventId : ""}`,
      at: svc.clock.now(),
    }),
  ]);
}
