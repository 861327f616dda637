/**
 * A tutor's Stripe Connect Express account: created once (the Idempotency-Key `connect-account:<userId>`
 * makes two concurrent first clicks get the same account from Stripe; the primary key on `userId`
 * keeps one row, and whichever insert wrote it answers "created"), then a fresh single-use onboarding
 * link on every call. Its state follows Stripe's `account.updated` events (each read back from Stripe).
 */
import { eq } from "drizzle-orm";
import type { AuthUser, ServiceContext } from "../../context";
import { payoutAccounts } from "../../db/schema";
import { DomainError } from "../../lib/errors";
import { ProviderError } from "../../providers/errors";
import type { StripeEvent } from "../../providers/stripe";
import { createExpressAccount, createOnboardingLink, retrieveAccount } from "../../providers/stripe-connect";
import type { OnboardingView, PayoutAccountView } from "./schemas";

type AccountRow = typeof payoutAccounts.$inferSelect;

const accountOf = (svc: ServiceContext, userId: string) =>
  svc.db.query.payoutAccounts.findFirst({ where: eq(payoutAccounts.userId, userId) });

export const payoutAccountView = (a: AccountRow): PayoutAccountView => ({
  accountId: a.stripeAccountId,
  payoutsEnabled: a.payoutsEnabled,
  detailsSubmitted: a.detailsSubmitted,
});

export async function getPayoutAccount(svc: ServiceContext, userId: string): Promise<PayoutAccountView> {
  const row = await accountOf(svc, userId);
  if (!row) throw new DomainError("not_found", "No payout account yet: POST /v1/me/payout-account creates it");
  return payoutAccountView(row);
}

/** Stripe failures (down, refusing, throttling) are the provider's, never the client's: 503. */
async function stripeCall<T>(svc: ServiceContext, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    console.log(
      JSON.stringify({ level: "error", msg: `stripe ${what} failed`, status: err.status, requestId: svc.requestId }),
    );
    throw new DomainError("provider_unavailable", "The payment provider is unavailable; try again");
  }
}

export async function openPayoutAccount(
  svc: ServiceContext,
  user: Pick<AuthUser, "id" | "email">,
): Promise<{ created: boolean; view: OnboardingView }> {
  let row = await accountOf(svc, user.id);
  let created = false;
  if (!row) {
    const account = await stripeCall(svc, "account creation", () =>
      createExpressAccount(svc.config, { userId: user.id, email: user.email }),
    );
    const now = svc.clock.now();
    const inserted = await svc.db
      .insert(payoutAccounts)
      .values({
        userId: user.id,
        stripeAccountId: account.id,
        payoutsEnabled: account.payouts_enabled === true,
        detailsSubmitted: account.details_submitted === true,
        // the account as created is older than any event about it: every event may overwrite it
        stateAsOf: 0,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .run();
    created = (inserted.meta.changes ?? 0) > 0;
    // a concurrent first call may have written the row: its account (the same one, by the
    // Idempotency-Key) is the tutor's
    row = await accountOf(svc, user.id);
    if (!row) throw new Error(`payout account of ${user.id} neither inserted nor found`);
  }
  const account = row;
  const link = await stripeCall(svc, "account link", () => createOnboardingLink(svc.config, account.stripeAccountId));
  return {
    created,
    view: { accountId: account.stripeAccountId, onboardingUrl: link.url, payoutsEnabled: account.payoutsEnabled },
  };
}

export type AccountUpdatedOutcome = "updated" | "stale" | "unknown account";

/**
 * `account.updated`: the flags of the tutor's account. Stripe does not deliver in order, and several
 * events of one onboarding share the same `created` second, so the event is only a signal: the
 * account is read back from Stripe and its state now is written, stamped with our clock. When Stripe
 * cannot be reached, the event's own flags apply in one conditional UPDATE, only if the event is not
 * older than the state (equal times apply: a replay writes the same flags).
 */
export async function applyAccountUpdated(svc: ServiceContext, event: StripeEvent): Promise<AccountUpdatedOutcome> {
  const object = event.data.object as { id?: unknown; payouts_enabled?: unknown; details_submitted?: unknown };
  const accountId =
    typeof event.account === "string" ? event.account : typeof object.id === "string" ? object.id : null;
  if (!accountId) return "unknown account";
  const known = await svc.d1
    .prepare("SELECT 1 AS one FROM payoutAccounts WHERE stripeAccountId = ?")
    .bind(accountId)
    .first<{ one: number }>();
  if (!known) return "unknown account";
  const current = await retrieveAccount(svc.config, accountId).catch(() => null);
  const state = current
    ? { payouts: current.payouts_enabled === true, details: current.details_submitted === true, asOf: svc.clock.now() }
    : {
        payouts: object.payouts_enabled === true,
        details: object.details_submitted === true,
        // Stripe always sends `created` (seconds); an event without one is older than any state
        asOf: Number.isSafeInteger(event.created) ? event.created * 1000 : 0,
      };
  const result = await svc.d1
    .prepare(
      "UPDATE payoutAccounts SET payoutsEnabled = ?, detailsSubmitted = ?, stateAsOf = ?, updatedAt = ? WHERE stripeAccountId = ? AND stateAsOf <= ?",
    )
    .bind(state.payouts ? 1 : 0, state.details ? 1 : 0, state.asOf, svc.clock.now(), accountId, state.asOf)
    .run();
  return (result.meta.changes ?? 0) > 0 ? "updated" : "stale";
}
