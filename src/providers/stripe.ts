/**
 * Stripe through the official SDK with the fetch HTTP client (workerd has no Node http). The base
 * URL (`STRIPE_API_BASE`) is parsed into the SDK's host/port/protocol so the same code talks to
 * Stripe, the local emulator or a test fake. Webhook signatures are checked with SubtleCrypto.
 */
import Stripe from "stripe";
import type { Config } from "../config";
import { DomainError } from "../lib/errors";
import { ProviderError } from "./errors";

export type StripeEvent = Stripe.Event;
export type CheckoutSession = Stripe.Checkout.Session;

export function stripeClient(config: Config): Stripe {
  if (!config.STRIPE_SECRET_KEY) throw new DomainError("provider_unavailable", "Payments are not configured");
  const base = new URL(config.STRIPE_API_BASE);
  const protocol = base.protocol === "http:" ? "http" : "https";
  return new Stripe(config.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: base.port ? Number(base.port) : protocol === "https" ? 443 : 80,
    protocol,
    maxNetworkRetries: 2,
    timeout: 10_000,
  });
}

export interface CheckoutInput {
  orderId: string;
  userId: string;
  email: string;
  credits: number;
  priceCents: number;
  currency: string;
  expiresAt: number;
}

export async function createCheckoutSession(config: Config, input: CheckoutInput): Promise<CheckoutSession> {
  const stripe = stripeClient(config);
  const metadata = { orderId: input.orderId, userId: input.userId };
  try {
    return await stripe.checkout.sessions.create(
      {
        mode: "payment",
        client_reference_id: input.orderId,
        customer_email: input.email,
        metadata,
        payment_intent_data: { metadata },
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: input.currency,
              unit_amount: input.priceCents,
              product_data: { name: `${input.credits} tutorloop credits` },
            },
          },
        ],
        success_url: config.CHECKOUT_SUCCESS_URL,
        cancel_url: config.CHECKOUT_CANCEL_URL,
        expires_at: Math.floor(input.expiresAt / 1000),
      },
      { idempotencyKey: `checkout:${input.orderId}` },
    );
  } catch (err) {
    throw providerError(err);
  }
}

/** Stripe SDK errors as ProviderErrors: 5xx, 429 and network failures are transient; 4xx are refusals. */
export function providerError(err: unknown): ProviderError {
  const status = (err as { statusCode?: number }).statusCode;
  return new ProviderError(
    "stripe",
    (err as Error).message,
    status === undefined || status >= 500 || status === 429,
    status,
    (err as { code?: string }).code,
  );
}

export type Refund = Stripe.Refund;

/** `POST /v1/refunds` for (part of) a payment; the key makes a retried call refund only once. */
export async function createRefund(
  config: Config,
  input: { paymentIntent: string; amountCents: number; idempotencyKey: string; metadata: Record<string, string> },
): Promise<Refund> {
  try {
    return await stripeClient(config).refunds.create(
      { payment_intent: input.paymentIntent, amount: input.amountCents, metadata: input.metadata },
      { idempotencyKey: input.idempotencyKey },
    );
  } catch (err) {
    throw providerError(err);
  }
}

/** `GET /v1/checkout/sessions/:id`: what Stripe knows of an order whose webhook may have been lost. */
export async function retrieveCheckoutSession(config: Config, id: string): Promise<CheckoutSession> {
  try {
    return await stripeClient(config).checkout.sessions.retrieve(id);
  } catch (err) {
    throw providerError(err);
  }
}

/** Live mode of the configured key: events and sessions of the other mode are never credited. */
export const liveModeOf = (config: Config) => (config.STRIPE_SECRET_KEY ?? "").startsWith("sk_live_");

/** Signature verification needs no API key; one lazily built SDK instance serves it. */
let verifier: { stripe: Stripe; crypto: ReturnType<typeof Stripe.createSubtleCryptoProvider> } | undefined;

/**
 * Verifies `Stripe-Signature` over the raw body (300 s tolerance) against the platform endpoint's
 * secret, then the Connect endpoint's (Connect events come from their own endpoint configuration with
 * its own secret); throws 400 when neither holds.
 */
export async function verifyWebhook(
  config: Config,
  rawBody: string,
  signature: string | undefined,
): Promise<StripeEvent> {
  const secrets = [config.STRIPE_WEBHOOK_SECRET, config.STRIPE_CONNECT_WEBHOOK_SECRET].filter(
    (s): s is string => s !== undefined,
  );
  if (secrets.length === 0) throw new DomainError("provider_unavailable", "Stripe webhooks are not configured");
  if (!signature) throw new DomainError("validation_failed", "Missing Stripe-Signature header");
  verifier ??= {
    stripe: new Stripe("sk_verify_only", { httpClient: Stripe.createFetchHttpClient() }),
    crypto: Stripe.createSubtleCryptoProvider(),
  };
  for (const secret of secrets) {
    try {
      return await verifier.stripe.webhooks.constructEventAsync(rawBody, signature, secret, 300, verifier.crypto);
    } catch {
      // the next secret, if any
    }
  }
  throw new DomainError("validation_failed", "Invalid or stale Stripe signature");
}
