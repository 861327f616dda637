/** The Stripe objects the emulator keeps, shaped as Stripe's API returns them, and the events it sent. */

export interface StripeSession extends Record<string, unknown> {
  id: string;
  status: "open" | "complete" | "expired";
  payment_status: "unpaid" | "paid" | "no_payment_required";
  amount_total: number;
  currency: string;
  customer_email: string | null;
  success_url: string | null;
  cancel_url: string | null;
  expires_at: number;
  url: string | null;
}

/** A Checkout Session plus what only the emulator needs (never sent on the wire). */
export interface StoredSession extends StripeSession {
  productName: string;
  /** the `Stripe-Version` it was created with: its events carry the same `api_version` */
  apiVersion: string;
}

export interface SentEvent {
  id: string;
  type: string;
  sessionId: string;
  payload: string;
  signature: string;
  deliveries: ({ status: number; body: string; at: number } | { error: string; at: number })[];
}

export interface StripeStore {
  checkoutSessions: Map<string, StoredSession>;
  events: SentEvent[];
}

export const newStripeStore = (): StripeStore => ({ checkoutSessions: new Map(), events: [] });

/** The session as the API sees it: without the emulator's own fields. */
export function publicSession(s: StoredSession): StripeSession {
  const { productName: _p, apiVersion: _a, ...rest } = s;
  return rest;
}
