/**
 * A payout's money leaving the platform: the `stripe.transfer` job (payments queue) makes the Stripe
 * Transfer, and Stripe's `transfer.reversed` takes it back.
 *
 * The job is idempotent three ways: a payout that is no longer `pending` is done; the payout id is the
 * Idempotency-Key and the `transfer_group`, so a redelivered job gets Stripe's first transfer back;
 * and a job that may have run before (`attemptedAt` set) first looks the transfer up by its group,
 * because Stripe forgets idempotency keys after 24 hours and a replayed dead letter can be older.
 * A refusal (a 4xx) fails the payout with one reversal credit; anything transient is retried, and
 * exhausted retries leave the payout `pending` for the dead-letter replay (never half-done).
 */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { users } from "../../db/schema";
import { templates } from "../../email/templates";
import { ledgerFor, unwrap } from "../../ledger/client";
import { type Payout, payoutById } from "../../ledger/payout-money";
import { ProviderError } from "../../providers/errors";
import type { StripeEvent } from "../../providers/stripe";
import { createTransfer, findTransferOfPayout, type Transfer } from "../../providers/stripe-connect";
import { enqueueEmail } from "../../queues/enqueue";
import type { QueueMessage } from "../../queues/messages";
import { PermanentJobError } from "../../queues/permanent";
import { insertAdminNotifications } from "../notifications/store";

/**
 * Refusals that are about the destination account (it cannot receive this transfer): only these
 * fail a payout. Any other 4xx is about the platform or a concurrent request, never the tutor's.
 */
const DESTINATION_REFUSALS = new Set([
  "resource_missing",
  "insufficient_capabilities_for_transfer",
  "account_invalid",
  "account_closed",
  "transfers_not_allowed",
]);

/** An error the queue retries (a non-transient ProviderError would be dead-lettered at once). */
function retryable(err: unknown): never {
  if (err instanceof ProviderError && !err.transient) {
    throw new ProviderError("stripe", err.message.replace(/^stripe: /, ""), true, err.status, err.code);
  }
  throw err;
}

export async function transferPayoutJob(svc: ServiceContext, m: Extract<QueueMessage, { type: "stripe.transfer" }>) {
  const payout = await payoutById(svc.d1, m.payoutId);
  if (payout?.status !== "pending") return;
  const debited = await svc.d1
    .prepare("SELECT 1 AS one FROM earningsLedger WHERE payoutId = ? AND source = 'payout'")
    .bind(payout.id)
    .first();
  // The trigger makes this impossible; never send money that did not leave the balance.
  if (!debited) throw new PermanentJobError(`payout ${payout.id} has no debit`);
  const mayHaveRun = payout.attemptedAt !== null;
  await svc.d1
    .prepare("UPDATE payouts SET attemptedAt = COALESCE(attemptedAt, ?) WHERE id = ? AND status = 'pending'")
    .bind(svc.clock.now(), payout.id)
    .run();

  // The lookup's own failure never fails the payout: the transfer may exist. Retried instead.
  const earlier = mayHaveRun ? await findTransferOfPayout(svc.config, payout.id).catch(retryable) : null;
  let transfer: Transfer;
  try {
    transfer =
      earlier ??
      (await createTransfer(svc.config, {
        payoutId: payout.id,
        amountCents: payout.amountCents,
        currency: payout.currency,
        destination: payout.stripeAccountId,
        metadata: { payoutId: payout.id, userId: payout.userId, runId: payout.runId },
      }));
  } catch (err) {
    if (err instanceof ProviderError && err.status !== undefined && DESTINATION_REFUSALS.has(err.code ?? "")) {
      await failPayout(svc, payout, `Stripe refused the transfer: ${err.message}`, ["pending"]);
      return;
    }
    // Anything else is retried and, once the retries are exhausted, left pending for admins: a 409
    // (the same key in flight in a concurrent delivery), an idempotency_error, the platform's own
    // balance or key. Failing the payout then could pay the tutor twice or fail everyone at once.
    throw retryable(err);
  }
  if (transfer.amount !== payout.amountCents || transfer.destination !== payout.stripeAccountId) {
    throw new PermanentJobError(`transfer ${transfer.id} does not match payout ${payout.id}`);
  }
  const paid = unwrap(
    await ledgerFor(svc.env, payout.userId).markPayoutPaid({
      payoutId: payout.id,
      stripeTransferId: transfer.id,
      at: svc.clock.now(),
    }),
  );
  if (!paid.replayed) await mailTutor(svc, payout, "paid");
}

/** Fails the payout in the tutor's object (one reversal credit) and tells the tutor once. */
async function failPayout(svc: ServiceContext, payout: Payout, reason: string, from: ("pending" | "paid")[]) {
  const failed = unwrap(
    await ledgerFor(svc.env, payout.userId).failPayout({ payoutId: payout.id, reason, from, at: svc.clock.now() }),
  );
  if (!failed.replayed) await mailTutor(svc, failed.payout, "failed");
  return failed;
}

async function mailTutor(svc: ServiceContext, payout: Payout, outcome: "paid" | "failed") {
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, payout.userId), columns: { email: true } });
  if (!user) return;
  await enqueueEmail(svc, {
    to: user.email,
    idempotencyKey: `payout_${outcome}:${payout.id}`,
    ...(outcome === "paid"
      ? templates.payoutPaid(payout.amountCents, payout.currency)
      : templates.payoutFailed(payout.amountCents, payout.currency, payout.failureReason ?? "")),
  });
}

export type TransferReversedOutcome = "reversed" | "nothing" | "partial" | "unknown";

/**
 * `transfer.reversed`: a fully reversed transfer fails its payout (pending or paid: the event can
 * overtake the job) with one reversal credit; a replay finds the reversal and writes nothing. A
 * partial reversal is not a failed payout: admins are alerted to settle it by hand.
 */
export async function applyTransferReversed(svc: ServiceContext, event: StripeEvent): Promise<TransferReversedOutcome> {
  const transfer = event.data.object as Partial<Transfer>;
  const payoutId = typeof transfer.transfer_group === "string" ? transfer.transfer_group : null;
  const payout = payoutId ? await payoutById(svc.d1, payoutId) : null;
  const matches =
    payout !== null &&
    (payout.stripeTransferId === transfer.id || payout.stripeTransferId === null) &&
    payout.stripeAccountId === transfer.destination;
  if (!payout || !matches) return "unknown";
  if (payout.status === "failed") return "nothing";
  if ((transfer.amount_reversed ?? 0) < payout.amountCents) {
    await svc.d1.batch([
      insertAdminNotifications(svc.d1, {
        type: "payout_partially_reversed",
        data: { payoutId: payout.id, amountReversed: transfer.amount_reversed ?? 0, amountCents: payout.amountCents },
        dedupeKey: `payout_partially_reversed:${payout.id}:${transfer.amount_reversed ?? 0}`,
        at: svc.clock.now(),
      }),
    ]);
    return "partial";
  }
  const failed = await failPayout(svc, payout, "Stripe reversed the transfer", ["pending", "paid"]);
  return failed.replayed ? "nothing" : "reversed";
}
