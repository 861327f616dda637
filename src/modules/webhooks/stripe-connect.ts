/**
 * The Connect side of POST /v1/webhooks/stripe: `account.updated` (a tutor's onboarding progress) is
 * applied at once, one conditional UPDATE; `transfer.reversed` fails the payout with one reversal
 * (modules/payouts/transfer.ts). Both are recorded in `stripeEvents` and marked processed with what
 * they did; a replay does nothing twice (the UPDATE is by event time, the reversal by payout state).
 */
import type { ServiceContext } from "../../context";
import { stripeEvents } from "../../db/schema";
import type { StripeEvent } from "../../providers/stripe";
import { applyAccountUpdated } from "../payouts/accounts";
import { applyTransferReversed } from "../payouts/transfer";

export type ConnectEventResult = { action: "applied" | "ignored"; outcome: string };

/** null when the event is not a Connect event this platform handles. */
export async function handleConnectEvent(svc: ServiceContext, event: StripeEvent): Promise<ConnectEventResult | null> {
  let outcome: string;
  let applied: boolean;
  if (event.type === "account.updated") {
    await record(svc, event);
    outcome = await applyAccountUpdated(svc, event);
    applied = outcome === "updated";
  } else if (event.type === "transfer.reversed") {
    await record(svc, event);
    outcome = await applyTransferReversed(svc, event);
    applied = outcome === "reversed" || outcome === "partial";
  } else {
    return null;
  }
  await svc.d1
    .prepare("UPDATE stripeEvents SET processedAt = ?, outcome = ? WHERE id = ? AND processedAt IS NULL")
    .bind(svc.clock.now(), outcome, event.id)
    .run();
  if (!applied) {
    console.log(
      JSON.stringify({
        level: "info",
        msg: "stripe event ignored",
        eventId: event.id,
        type: event.type,
        reason: outcome,
      }),
    );
  }
  return { action: applied ? "applied" : "ignored", outcome };
}

const record = (svc: ServiceContext, event: StripeEvent) =>
  svc.db
    .insert(stripeEvents)
    .values({ id: event.id, type: event.type, receivedAt: svc.clock.now() })
    .onConflictDoNothing();
