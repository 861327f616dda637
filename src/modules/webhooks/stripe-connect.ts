/**
 * The Connect side of POST /v1/webhooks/stripe: `account.updated` (a tutor's onboarding progress) is
 * applied at once (the account read back from Stripe, one conditional UPDATE); `transfer.reversed` fails the payout with one reversal
 * (modules/payouts/transfer.ts). Both are recorded in `stripeEvents` and marked processed with what
 * they did; a replay does nothing twice (the UPDATE is by event time, the reversal by payout state).
 */
import type { ServiceContext } from "../../context";
import type { StripeEvent } from "../../providers/stripe";
import { applyAccountUpdated } from "../payouts/accounts";
import { applyTransferReversed } from "../payouts/transfer";
import { markEventProcessed, recordEvent } from "./stripe-events";

export type ConnectEventResult = { action: "applied" | "ignored"; outcome: string };

/** null when the event is not a Connect event this platform handles. */
export async function handleConnectEvent(svc: ServiceContext, event: StripeEvent): Promise<ConnectEventResult | null> {
  let outcome: string;
  let applied: boolean;
  if (event.type === "account.updated") {
    await recordEvent(svc, event);
    outcome = await applyAccountUpdated(svc, event);
    applied = outcome === "updated";
  } else if (event.type === "transfer.reversed") {
    await recordEvent(svc, event);
    outcome = await applyTransferReversed(svc, event);
    applied = outcome === "reversed" || outcome === "partial";
  } else {
    return null;
  }
  await markEventProcessed(svc, event.id, outcome);
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
