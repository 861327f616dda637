/** Payout fixtures: tutors with a Connect account, earnings, and payouts written by the tutor's ledger object. */

import { ledgerFor } from "../../src/ledger/client";
import { insertEarning } from "../../src/ledger/earnings-sql";
import type { Payout } from "../../src/ledger/payout-money";
import { newId } from "../../src/lib/crypto";
import { stripeEvent } from "../credits/helpers";
import { createUser, env, type TestUser } from "../helpers/api";
import { createSubject, createTutor } from "../sessions/helpers";

export const newTutor = async () => createTutor((await createSubject()).id);

/** A tutor whose Connect account row exists (as the onboarding route and account.updated leave it). */
export async function tutorWithAccount(opts: { payoutsEnabled?: boolean } = {}) {
  const tutor = await newTutor();
  const accountId = `acct_${crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase()}`;
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO payoutAccounts (userId, stripeAccountId, payoutsEnabled, detailsSubmitted, stateAsOf, createdAt, updatedAt) VALUES (?, ?, ?, ?, 0, ?, ?)",
  )
    .bind(tutor.id, accountId, opts.payoutsEnabled === false ? 0 : 1, opts.payoutsEnabled === false ? 0 : 1, now, now)
    .run();
  return { ...tutor, accountId };
}

/** A manual earnings credit: the balance a payout takes. */
export async function earn(userId: string, cents: number) {
  await insertEarning(env.DB, {
    id: newId("earn"),
    userId,
    type: "credit",
    amountCents: cents,
    currency: "usd",
    source: "manual_adjustment",
    sessionId: null,
    payoutId: null,
    description: "test earnings",
    idempotencyKey: `test_earning:${crypto.randomUUID()}`,
    createdAt: Date.now(),
  }).run();
}

let admin: TestUser | undefined;

/**
 * One payout of `cents` for the tutor at time `at` (its own run), through the tutor's ledger object;
 * `paid` / `failed` move it on the same way the transfer job does.
 */
export async function payoutOf(
  tutor: { id: string; accountId: string },
  cents: number,
  at: number,
  status: "pending" | "paid" | "failed" = "pending",
): Promise<Payout> {
  admin ??= await createUser("admin");
  await earn(tutor.id, cents);
  const runId = newId("prun");
  await env.DB.prepare(
    "INSERT INTO payoutRuns (id, trigger, actorUserId, cronDay, createdAt) VALUES (?, 'admin', ?, NULL, ?)",
  )
    .bind(runId, admin.id, at)
    .run();
  const ledger = ledgerFor(env, tutor.id);
  const started = await ledger.startPayout({
    userId: tutor.id,
    runId,
    stripeAccountId: tutor.accountId,
    minimumCents: 1,
    currency: "usd",
    at,
  });
  if (!started.ok || !started.started) throw new Error(`startPayout: ${JSON.stringify(started)}`);
  const id = started.payout.id;
  if (status === "paid") {
    const r = await ledger.markPayoutPaid({ payoutId: id, stripeTransferId: `tr_${id}`, at: at + 1 });
    if (!r.ok) throw new Error(`markPayoutPaid: ${JSON.stringify(r)}`);
    return r.payout;
  }
  if (status === "failed") {
    const r = await ledger.failPayout({ payoutId: id, reason: "refused in test", from: ["pending"], at: at + 1 });
    if (!r.ok) throw new Error(`failPayout: ${JSON.stringify(r)}`);
    return r.payout;
  }
  return started.payout;
}

/** An `account.updated` event as Stripe's Connect endpoint sends it (`account` names the account). */
export function accountUpdated(
  accountId: string,
  flags: { payoutsEnabled: boolean; detailsSubmitted: boolean },
  createdSeconds = Math.floor(Date.now() / 1000),
) {
  return {
    ...stripeEvent("account.updated", {
      id: accountId,
      object: "account",
      type: "express",
      charges_enabled: false,
      payouts_enabled: flags.payoutsEnabled,
      details_submitted: flags.detailsSubmitted,
      capabilities: { transfers: flags.payoutsEnabled ? "active" : "inactive" },
    }),
    account: accountId,
    created: createdSeconds,
  };
}

export async function accountRow(userId: string) {
  return env.DB.prepare(
    "SELECT stripeAccountId, payoutsEnabled, detailsSubmitted, stateAsOf FROM payoutAccounts WHERE userId = ?",
  )
    .bind(userId)
    .first<{ stripeAccountId: string; payoutsEnabled: number; detailsSubmitted: number; stateAsOf: number }>();
}
