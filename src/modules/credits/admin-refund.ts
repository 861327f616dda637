/**
 * `POST /v1/admin/credits/orders/:id/refund`: give part or all of an order back to the card.
 * Reverse first (so the student cannot spend credits that are being refunded), then ask Stripe with a
 * stable Idempotency-Key; if Stripe refuses, the reversal is undone by a `purchase_reinstated` entry.
 * A retry with the same key continues where the first attempt stopped (a pending refund is asked
 * again with the same Stripe key, so the card is refunded at most once). The `charge.refunded` webhook
 * that follows reverses nothing twice: the order already counts these credits as reversed.
 *
 * Audit: `order.refund` (the admin) is written in the reversal's batch, so a refund refused by our own
 * rules writes none and a retry with the same key no second one. Undoing it after Stripe refused is
 * the platform's doing, not an admin's: `order.refund_undone` by `system`, in the reinstatement's
 * batch, under the same request id — the log then shows that the refund did not happen.
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { cardRefunds, creditPurchaseOrders, users } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor, unwrap } from "../../ledger/client";
import { balanceOf } from "../../ledger/sql";
import { newId } from "../../lib/crypto";
import { conflict, DomainError, notFound } from "../../lib/errors";
import { ProviderError } from "../../providers/errors";
import { createRefund } from "../../providers/stripe";
import { enqueueEmail } from "../../queues/enqueue";
import { SYSTEM_ACTOR } from "../audit/actions";
import { auditEntry } from "../audit/store";
import { insertNotification } from "../notifications/store";
import { orderView } from "./service";

export async function refundOrder(
  svc: ServiceContext,
  adminId: string,
  orderId: string,
  credits: number,
  idempotencyKey: string | undefined,
) {
  const order = await svc.db.query.creditPurchaseOrders.findFirst({ where: eq(creditPurchaseOrders.id, orderId) });
  if (!order) throw notFound("Order");
  if (!svc.config.STRIPE_SECRET_KEY) throw new DomainError("provider_unavailable", "Payments are not configured");
  const paymentIntent = order.stripePaymentIntentId;
  if (order.status !== "completed" || !paymentIntent) throw conflict("Only a paid, credited order can be refunded");
  const rest = order.totalCredits - order.reversedCredits;
  // The last credits take whatever cents are left, so a full refund in parts refunds the whole payment.
  const cents =
    credits === rest
      ? order.totalCents - order.refundedCents
      : Math.floor((credits * order.totalCents) / order.totalCredits);
  if (cents <= 0) throw conflict("Nothing of this payment is left to refund");
  const ledger = ledgerFor(svc.env, order.userId);
  const at = svc.clock.now();
  const reversal = unwrap(
    await ledger.reverseForAdminRefund({
      userId: order.userId,
      orderId,
      credits,
      cents,
      key: `${adminId}:${idempotencyKey ?? crypto.randomUUID()}`,
      actorUserId: adminId,
      at,
      audit: auditEntry(svc, adminId, "order.refund", orderId, { credits, cents }, at),
    }),
  );
  const refund = await svc.db.query.cardRefunds.findFirst({ where: eq(cardRefunds.id, reversal.refundId) });
  if (!refund) throw new Error("card refund row missing after its reversal");
  if (refund.status === "failed") throw conflict(`Stripe refused this refund: ${refund.failureReason ?? "unknown"}`);
  if (refund.status === "pending") {
    try {
      const made = await createRefund(svc.config, {
        paymentIntent,
        amountCents: refund.amountCents,
        idempotencyKey: `refund:${refund.id}`,
        metadata: { orderId, refundId: refund.id, credits: String(refund.credits) },
      });
      await svc.db
        .update(cardRefunds)
        .set({ status: "succeeded", stripeRefundId: made.id, updatedAt: svc.clock.now() })
        .where(eq(cardRefunds.id, refund.id));
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      const undoneAt = svc.clock.now();
      const reason = err.message.slice(0, 500);
      unwrap(
        await ledger.undoAdminRefund({
          userId: order.userId,
          refundId: refund.id,
          reason,
          at: undoneAt,
          audit: auditEntry(
            svc,
            SYSTEM_ACTOR,
            "order.refund_undone",
            orderId,
            { refundId: refund.id, reason },
            undoneAt,
          ),
        }),
      );
      if (err.transient)
        throw new DomainError("provider_unavailable", "Stripe is unavailable; the credits were reinstated");
      throw conflict(`Stripe refused the refund: ${err.message.replace(/^stripe: /, "")}`);
    }
    await tellStudent(svc, order.userId, orderId, refund.id, refund.credits);
  }
  const updated = await svc.db.query.creditPurchaseOrders.findFirst({ where: eq(creditPurchaseOrders.id, orderId) });
  if (!updated) throw notFound("Order");
  return orderView(updated);
}

async function tellStudent(svc: ServiceContext, userId: string, orderId: string, refundId: string, credits: number) {
  const now = svc.clock.now();
  await svc.d1.batch([
    insertNotification(svc.d1, {
      id: newId("ntf"),
      userId,
      type: "payment_refunded",
      data: { orderId, credits, refundId },
      dedupeKey: `payment_refunded:${refundId}`,
      createdAt: now,
    }),
  ]);
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, userId), columns: { email: true } });
  const balance = await balanceOf(svc.d1, userId);
  if (user) {
    await enqueueEmail(svc, {
      to: user.email,
      idempotencyKey: `payment_refunded:${refundId}`,
      ...templates.paymentRefunded(credits, balance),
    });
  }
}
