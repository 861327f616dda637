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
export function checkoutEvent(
  type: CheckoutEventType | string,
  session: { id: string; orderId: string; userId: string; paymentStatus?: "paid" | "unpaid" | "no_payment_required" },
  eventId = `evt_${crypto.randomUUID().replaceAll("-", "")}`,
) {
  return {
    id: eventId,
    object: "event",
    api_version: "2025-01-27.acacia",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: {
      object: {
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
    },
  };
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
}

export async function ledgerRows(userId: string): Promise<Row[]> {
  return (await env.DB.prepare("SELECT * FROM creditsLedger WHERE userId = ? ORDER BY seq").bind(userId).all<Row>())
    .results;
}

/** Checks the chain: seq 1..n, each balanceAfter = previous ± amount, never negative, keys unique. */
export function assertChain(rows: Row[]) {
  let prev = 0;
  const keys = new Set<string>();
  rows.forEach((r, i) => {
    if (r.seq !== i + 1) throw new Error(`seq gap at ${i}: ${r.seq}`);
    const expected = prev + (r.type === "credit" ? r.amount : -r.amount);
    if (r.balanceAfter !== expected) throw new Error(`balanceAfter ${r.balanceAfter} != ${expected} at seq ${r.seq}`);
    if (r.balanceAfter < 0) throw new Error("negative balance");
    if (keys.has(r.idempotencyKey)) throw new Error(`duplicate key ${r.idempotencyKey}`);
    keys.add(r.idempotencyKey);
    prev = r.balanceAfter;
  });
  return prev;
}
