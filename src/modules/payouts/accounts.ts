/**
 * A tutor's Stripe Connect Express account: created once (the Idempotency-Key `connect-account:<userId>`
 * makes two concurrent first clicks get the same account from Stripe; the primary key on `userId`
 * keeps one row, and whichever insert wrote it answers "created"), then a fresh single-use onboarding
 * link on every call. Its state comes only from Stripe's `account.updated` events.
 */
import { eq } from "drizzle-orm";
import type { AuthUser, ServiceContext } from "../../context";
import { payoutAccounts } from "../../db/schema";
import { DomainError } from "../../lib/errors";
import { ProviderError } from "../../providers/errors";
import type { StripeEvent } from "../../providers/stripe";
import { createExpressAccount, createOnboardingLink } from "../../providers/stripe-connect";
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
 * `account.updated`: the flags of the tutor's account, in one conditional UPDATE so that an event
 * older than the state (Stripe does not deliver in order) changes nothing. Equal times apply: two
 * events within one second are indistinguishable by `created`, and a replay writes the same flags.
 */
export async function applyAccountUpdated(svc: ServiceContext, event: StripeEvent): Promise<AccountUpdatedOutcome> {
  const object = event.data.object as { id?: unknown; payouts_enabled?: unknown; details_submitted?: unknown };
  const accountId =
    typeof event.account === "string" ? event.account : typeof object.id === "string" ? object.id : null;
  if (!accountId) return "unknown account";
  // Stripe always sends `created` (seconds); an event without one is older than any state
  const asOf = Number.isSafeInteger(event.created) ? event.created * 1000 : 0;
  const result = await svc.d1
    .prepare(
      "UPDATE payoutAccounts SET payoutsEnabled = ?, detailsSubmitted = ?, stateAsOf = ?, updatedAt = ? WHERE stripeAccountId = ? AND stateAsOf <= ?",
    )
    .bind(
      object.payouts_enabled === true ? 1 : 0,
      object.details_submitted === true ? 1 : 0,
      asOf,
      svc.clock.now(),
      accountId,
      asOf,
    )
    .run();
  if ((result.meta.changes ?? 0) > 0) return "updated";
  const known = await svc.d1
    .prepare("SELECT 1 AS one FROM payoutAccounts WHERE stripeAccountId = ?")
    .bind(accountId)
    .first<{ one: number }>();
  return known ? "stale" : "unknown account";
}
