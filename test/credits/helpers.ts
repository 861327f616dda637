/** Stripe wire-format helpers: signed webhook deliveries and checkout.session event objects. */
import Stripe from "stripe";
import { call, env, eventually, json, type TestUser } from "../helpers/api";
import { TEST_STRIPE_WEBHOOK_SECRET_VALUE } from "./secret";

const stripe = new Stripe("sk_test_fake", { httpClient: Stripe.createFetchHttpClient() });
const cryptoProvider = Stripe.createSubtleCryptoProvider();

export async function signedHeader(payload: string, opts: { timestamp?: number; secret?: string } = {}) {
  return stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: opts.secret ?? TEST_STRIPE_WEBHOOK_SECRET_VALUE,
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider,
  });
}

export type CheckoutEventType =
  | "checkout.session.completed"
  | "checkout.session.async_payment_succeeded"
  | "checkout.session.async_payment_failed"
  | "checkout.session.expired";

/** A Stripe Event envelope around a checkout.session object, as Stripe sends it. */
export const newEventId = () => `evt_${crypto.randomUUID().replaceAll("-", "")}`;

/** A Stripe Event envelope around `object`, as Stripe sends it. */
export function stripeEvent<T extends Record<string, unknown>>(type: string, object: T, id = newEventId()) {
  return {
    id,
    object: "event",
    api_version: "2025-01-27.acacia",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** A Stripe Event around a checkout.session object. */
export function checkoutEvent(
  type: CheckoutEventType | string,
  session: { id: string; orderId: string; userId: string; paymentStatus?: "paid" | "unpaid" | "no_payment_required" },
  eventId = newEventId(),
) {
  return stripeEvent(
    type,
    {
      id: session.id,
      object: "checkout.session",
      amount_total: 5000,
      currency: "usd",
      client_reference_id: session.orderId,
      metadata: { orderId: session.orderId, userId: session.userId },
      mode: "payment",
      payment_intent: `pi_${session.id.slice(-12)}`,
      payment_status: session.paymentStatus ?? (type === "checkout.session.expired" ? "unpaid" : "paid"),
      status: type === "checkout.session.expired" ? "expired" : "complete",
    },
    eventId,
  );
}

export async function deliver(event: unknown, opts: { timestamp?: number; secret?: string; header?: string } = {}) {
  const payload = JSON.stringify(event);
  const header = opts.header ?? (await signedHeader(payload, opts));
  return call("/v1/webhooks/stripe", {
    method: "POST",
    rawBody: payload,
    headers: { "content-type": "application/json", "stripe-signature": header },
  });
}

export async function checkout(user: TestUser, packId = "pack_5") {
  const res = await call("/v1/credits/checkout", { token: user.token, body: { packId } });
  if (res.status !== 201) throw new Error(`checkout failed: ${res.status} ${await res.text()}`);
  return json<{ orderId: string; checkoutSessionId: string; checkoutUrl: string }>(res);
}

export async function orderStatus(orderId: string) {
  return (
    await env.DB.prepare("SELECT status FROM creditPurchaseOrders WHERE id = ?")
      .bind(orderId)
      .first<{ status: string }>()
  )?.status;
}

export async function waitForStatus(orderId: string, status: string) {
  return eventually(async () => ((await orderStatus(orderId)) === status ? true : undefined));
}

export async function balance(userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT balanceAfter FROM creditsLedger WHERE userId = ? ORDER BY seq DESC LIMIT 1")
    .bind(userId)
    .first<{ balanceAfter: number }>();
  return row?.balanceAfter ?? 0;
}

export interface Row {
  seq: number;
  type: string;
  amount: number;
  balanceAfter: number;
  idempotencyKey: string;
  source: string;
  purchaseOrderId?: string | null;
}

export async function ledgerRows(userId: string): Promise<Row[]> {
  return (await env.DB.prepare("SELECT * FROM creditsLedger WHERE userId = ? ORDER BY seq").bind(userId).all<Row>())
    .results;
}

/**
 * Checks the chain: seq 1..n, each balanceAfter = previous ± amount, keys unique; returns the balance.
 * Strict by default: no balance is ever negative. With `reversalsMayGoNegative` (the rule since card
 * refunds and disputes): only a `purchase_reversal` may take the balance below zero (or lower while it
 * is negative); any other entry may leave it negative only by raising it (a credit climbing back).
 */
export function assertChain(rows: Row[], opts: { reversalsMayGoNegative?: boolean } = {}) {
  let prev = 0;
  const keys = new Set<string>();
  rows.forEach((r, i) => {
    if (r.seq !== i + 1) throw new Error(`seq gap at ${i}: ${r.seq}`);
    const expected = prev + (r.type === "credit" ? r.amount : -r.amount);
    if (r.balanceAfter !== expected) throw new Error(`balanceAfter ${r.balanceAfter} != ${expected} at seq ${r.seq}`);
    if (r.balanceAfter < 0) {
      if (!opts.reversalsMayGoNegative) throw new Error(`negative balance at seq ${r.seq}`);
      const reversal = r.source === "purchase_reversal" && r.type === "debit";
      const climbing = r.type === "credit" && r.balanceAfter > prev;
      if (!reversal && !climbing) {
        throw new Error(`${r.type}/${r.source} left the balance at ${r.balanceAfter} (seq ${r.seq})`);
      }
    }
    if (keys.has(r.idempotencyKey)) throw new Error(`duplicate key ${r.idempotencyKey}`);
    keys.add(r.idempotencyKey);
    prev = r.balanceAfter;
  });
  return prev;
}

/** A `pending` order of `credits` for `cents`, as the checkout leaves it before the payment. */
export async function createPendingOrder(userId: string, credits: number, cents = 100) {
  const id = `ord_${crypto.randomUUID().replaceAll("-", "")}`;
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO creditPurchaseOrders (id, userId, packId, totalCredits, totalCents, currency, status, createdAt, updatedAt) VALUES (?, ?, 'pack', ?, ?, 'usd', 'pending', ?, ?)",
  )
    .bind(id, userId, credits, cents, now, now)
    .run();
  return id;
}

/**
 * Waits for a Stripe event's processed marker (`stripeEvents.processedAt`, set when its job finished
 * or the webhook decided it needs nothing) and returns its `outcome`.
 */
export async function processed(eventId: string, timeoutMs?: number): Promise<string> {
  return eventually(async () => {
    const row = await env.DB.prepare("SELECT processedAt, outcome FROM stripeEvents WHERE id = ?")
      .bind(eventId)
      .first<{ processedAt: number | null; outcome: string | null }>();
    return row?.processedAt != null ? (row.outcome ?? "") : undefined;
  }, timeoutMs);
}

/**
 * A barrier on a queue: sends a no-op job (a `stripe.fulfil` for an order that does not exist, which
 * only sets its own processed marker) and waits until it has run. The local queue broker delivers
 * messages in the order they were sent, one batch at a time, and the consumer runs a batch's messages
 * one after the other; so once the barrier has run, every message sent to that queue before it has
 * run too (messages sent back for a retry with a delay excepted). This is how a test waits for
 * "nothing more happens" without a fixed sleep.
 */
export async function queueBarrier(queue: "PAYMENTS" | "JOBS", timeoutMs = 15_000): Promise<void> {
  const eventId = `evt_barrier_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare("INSERT INTO stripeEvents (id, type, receivedAt) VALUES (?, 'test.barrier', ?)")
    .bind(eventId, Date.now())
    .run();
  await env[queue].send({ type: "stripe.fulfil", orderId: `ord_barrier_${eventId}`, eventId, outcome: "expired" });
  await processed(eventId, timeoutMs);
}

/** The order's card refunds (late-payment and admin refunds this platform asked Stripe for). */
export async function cardRefundsOf(orderId: string) {
  return (
    await env.DB.prepare(
      "SELECT idempotencyKey, amountCents, credits, reason, status FROM cardRefunds WHERE orderId = ? ORDER BY createdAt",
    )
      .bind(orderId)
      .all<{ idempotencyKey: string; amountCents: number; credits: number; reason: string; status: string }>()
  ).results;
}
