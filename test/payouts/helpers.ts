/**
 * Payout fixtures: tutors with earnings and a Connect account (in the emulator, or only as a row),
 * payouts written by the tutor's ledger object, Stripe events, and a job context with recording queues.
 */
import type { Config } from "../../src/config";
import type { ServiceContext } from "../../src/context";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { ledgerFor } from "../../src/ledger/client";
import { insertEarning } from "../../src/ledger/earnings-sql";
import type { Payout } from "../../src/ledger/payout-money";
import { newId } from "../../src/lib/crypto";
import type { QueueMessage } from "../../src/queues/messages";
import { stripeEvent } from "../credits/helpers";
import { createUser, env, type TestUser } from "../helpers/api";
import { createSubject, createTutor } from "../sessions/helpers";

const FAKE = () => env.FAKE_PROVIDERS_URL;

/** A Connect Express account in the emulator, onboarded (transfers active) unless told otherwise. */
export async function emulatorAccount(opts: { onboarded?: boolean } = {}): Promise<string> {
  const res = await fetch(`${FAKE()}/v1/accounts`, {
    method: "POST",
    headers: { authorization: "Bearer sk_test_fake", "content-type": "application/x-www-form-urlencoded" },
    body: "type=express&capabilities[transfers][requested]=true",
  });
  if (res.status !== 200) throw new Error(`emulator account: ${res.status} ${await res.text()}`);
  const account = (await res.json()) as { id: string };
  if (opts.onboarded ?? true) {
    const done = await fetch(`${FAKE()}/__control/stripe/accounts/${account.id}/onboard`, {
      method: "POST",
      body: JSON.stringify({ deliver: false }),
    });
    if (done.status !== 200) throw new Error(`emulator onboarding: ${done.status} ${await done.text()}`);
  }
  return account.id;
}

/** Makes the account refuse every transfer (a permanent 4xx), like a closed bank account. */
export async function refuseTransfers(accountId: string) {
  const res = await fetch(`${FAKE()}/__control/stripe/accounts/${accountId}/refuse-transfers`, {
    method: "POST",
    body: JSON.stringify({}),
  });
  if (res.status !== 200) throw new Error(`refuse transfers: ${res.status} ${await res.text()}`);
}

export interface PayoutTutor extends TestUser {
  accountId: string;
}

/** A tutor with `cents` of earnings (a manual adjustment credit) and a payout account row. */
export async function payoutTutor(
  cents: number,
  opts: { enabled?: boolean; accountId?: string } = {},
): Promise<PayoutTutor> {
  const user = await createUser("tutor");
  const accountId = opts.accountId ?? (await emulatorAccount());
  const now = Date.now();
  const statements = [
    env.DB.prepare(
      "INSERT INTO payoutAccounts (userId, stripeAccountId, payoutsEnabled, detailsSubmitted, stateAsOf, createdAt, updatedAt) VALUES (?, ?, ?, 1, 0, ?, ?)",
    ).bind(user.id, accountId, (opts.enabled ?? true) ? 1 : 0, now, now),
  ];
  if (cents > 0) statements.push(earnStatement(user.id, cents));
  await env.DB.batch(statements);
  return { ...user, accountId };
}

/** An earnings credit for the tutor as a statement (through the chain-computing INSERT the ledger uses). */
export const earnStatement = (userId: string, cents: number) =>
  insertEarning(env.DB, {
    id: newId("ern"),
    userId,
    type: "credit",
    amountCents: cents,
    currency: "usd",
    source: "manual_adjustment",
    sessionId: null,
    payoutId: null,
    description: "test earnings",
    idempotencyKey: `test:${crypto.randomUUID()}`,
    createdAt: Date.now(),
  });

export const earningsBalance = async (userId: string) =>
  (
    await env.DB.prepare("SELECT balanceAfterCents FROM earningsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1")
      .bind(userId)
      .first<{ balanceAfterCents: number }>()
  )?.balanceAfterCents ?? 0;

export const payoutsOf = (userId: string) =>
  env.DB.prepare("SELECT * FROM payouts WHERE userId = ? ORDER BY createdAt, id")
    .bind(userId)
    .all<{
      id: string;
      runId: string;
      amountCents: number;
      status: string;
      stripeTransferId: string | null;
      failureReason: string | null;
      attemptedAt: number | null;
    }>()
    .then((r) => r.results);

/** A job context whose queues record instead of delivering (the test runs the jobs itself). */
export async function recordingSvc(config: Partial<Config> = {}) {
  const sent: QueueMessage[] = [];
  // two objects: enqueueMany tells the queues apart by identity
  const recorder = () =>
    ({
      send: async (body: QueueMessage) => void sent.push(body),
      sendBatch: async (batch: { body: QueueMessage }[]) => void sent.push(...batch.map((b) => b.body)),
    }) as unknown as Queue<QueueMessage>;
  const base = await jobContext(env, `test:${crypto.randomUUID()}`);
  const svc: ServiceContext = {
    ...base,
    env: { ...env, JOBS: recorder(), PAYMENTS: recorder() } as Env,
    config: { ...base.config, ...config },
  };
  return { svc, sent };
}

export const transfersOf = (sent: QueueMessage[]) =>
  sent.filter((m): m is Extract<QueueMessage, { type: "stripe.transfer" }> => m.type === "stripe.transfer");

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
  await earnStatement(userId, cents).run();
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
