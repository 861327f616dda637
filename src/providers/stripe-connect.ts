/**
 * Stripe Connect through the official SDK: Express accounts for tutors, their onboarding links, and
 * the platform's Transfers to them (separate charges and transfers: the students paid the platform,
 * the platform pays each tutor later; no `Stripe-Account` header, the destination is in the body).
 */
import type Stripe from "stripe";
import type { Config } from "../config";
import { providerError, stripeClient } from "./stripe";

export type ConnectAccount = Stripe.Account;
export type AccountLink = Stripe.AccountLink;
export type Transfer = Stripe.Transfer;

/** `POST /v1/accounts`: one Express account per tutor; the key makes a double click create one. */
export async function createExpressAccount(
  config: Config,
  input: { userId: string; email: string },
): Promise<ConnectAccount> {
  try {
    return await stripeClient(config).accounts.create(
      {
        type: "express",
        email: input.email,
        capabilities: { transfers: { requested: true } },
        metadata: { userId: input.userId },
      },
      { idempotencyKey: `connect-account:${input.userId}` },
    );
  } catch (err) {
    throw providerError(err);
  }
}

/** `GET /v1/accounts/:id`: the account as it is now (events arrive out of order, even within a second). */
export async function retrieveAccount(config: Config, accountId: string): Promise<ConnectAccount> {
  try {
    return await stripeClient(config).accounts.retrieve(accountId);
  } catch (err) {
    throw providerError(err);
  }
}

/** `POST /v1/account_links`: a fresh, single-use link to Stripe's hosted onboarding. */
export async function createOnboardingLink(config: Config, accountId: string): Promise<AccountLink> {
  try {
    return await stripeClient(config).accountLinks.create({
      account: accountId,
      type: "account_onboarding",
      return_url: config.PAYOUT_ONBOARDING_RETURN_URL,
      refresh_url: config.PAYOUT_ONBOARDING_REFRESH_URL,
    });
  } catch (err) {
    throw providerError(err);
  }
}

export interface TransferInput {
  payoutId: string;
  amountCents: number;
  currency: string;
  destination: string;
  metadata: Record<string, string>;
}

/**
 * `POST /v1/transfers` with the payout id as Idempotency-Key and as `transfer_group`: a redelivered
 * job gets the first transfer back from Stripe instead of making a second one.
 */
export async function createTransfer(config: Config, input: TransferInput): Promise<Transfer> {
  try {
    return await stripeClient(config).transfers.create(
      {
        amount: input.amountCents,
        currency: input.currency,
        destination: input.destination,
        transfer_group: input.payoutId,
        metadata: input.metadata,
      },
      { idempotencyKey: input.payoutId },
    );
  } catch (err) {
    throw providerError(err);
  }
}

/**
 * `GET /v1/transfers?transfer_group=<payout id>`: the transfer a payout already made, if any. Stripe
 * keeps idempotency keys for 24 hours; a payout replayed later (after exhausted retries) is looked up
 * first, so a transfer that did happen is never made again.
 */
export async function findTransferOfPayout(config: Config, payoutId: string): Promise<Transfer | null> {
  try {
    const list = await stripeClient(config).transfers.list({ transfer_group: payoutId, limit: 1 });
    return list.data[0] ?? null;
  } catch (err) {
    throw providerError(err);
  }
}
