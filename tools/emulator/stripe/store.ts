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
  /** `pi_…` once paid, else null */
  payment_intent: string | null;
  url: string | null;
}

/** A Checkout Session plus what only the emulator needs (never sent on the wire). */
export interface StoredSession extends StripeSession {
  productName: string;
  /** the `Stripe-Version` it was created with: its events carry the same `api_version` */
  apiVersion: string;
  /** `payment_intent_data[metadata]`: becomes the PaymentIntent's metadata when paid */
  paymentIntentMetadata: Record<string, string>;
}

export interface PaymentIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_received: number;
  capture_method: "automatic_async";
  created: number;
  currency: string;
  customer: null;
  latest_charge: string;
  livemode: false;
  metadata: Record<string, string>;
  payment_method: string;
  payment_method_types: string[];
  status: "succeeded";
}

export interface Refund {
  id: string;
  object: "refund";
  amount: number;
  balance_transaction: null;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: "duplicate" | "fraudulent" | "requested_by_customer" | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: "succeeded";
  transfer_reversal: null;
}

export type DisputeStatus = "needs_response" | "won" | "lost";

export interface Dispute {
  id: string;
  object: "dispute";
  amount: number;
  balance_transactions: never[];
  charge: string;
  created: number;
  currency: string;
  evidence_details: { due_by: number; has_evidence: false; past_due: false; submission_count: 0 };
  is_charge_refundable: false;
  livemode: false;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: "fraudulent";
  status: DisputeStatus;
}

/** A Charge as the emulator keeps it; `chargeView` (payments.ts) turns it into Stripe's JSON. */
export interface StoredCharge {
  id: string;
  amount: number;
  amountRefunded: number;
  currency: string;
  created: number;
  paymentIntent: string;
  paymentMethod: string;
  receiptEmail: string | null;
  refunds: Refund[];
  dispute: Dispute | null;
  /** where the payment came from: its events name this session and carry its API version */
  sessionId: string;
  apiVersion: string;
}

export interface SentEvent {
  id: string;
  type: string;
  /** a Connect event's connected account (its top-level `account`): signed with the Connect secret */
  account: string | null;
  /** the Checkout Session the event is about (for refunds and disputes: the one that was paid) */
  sessionId: string | null;
  paymentIntent: string | null;
  payload: string;
  /** the signature of the latest delivery attempt (of creation, for a withheld event) */
  signature: string;
  /** true for `POST /checkout/:id/pay?deliver=none`: recorded and signed, never delivered */
  withheld?: true;
  deliveries: ({ status: number; body: string; at: number } | { error: string; at: number })[];
}

/** `POST /__control/stripe/fail`: the next `times` calls matching `method` and `path` answer `status`. */
export interface StripeFailure {
  method?: string;
  /** exact, or a prefix when it ends with `*` */
  path: string;
  /** only calls whose body or query string contains this (one test's ids, when files run at once) */
  match?: string;
  status: number;
  code?: string;
  message?: string;
  times: number;
}

export type CapabilityStatus = "active" | "inactive" | "pending";

/** What `account.updated` can change (the control route and the hosted onboarding page set these). */
export interface AccountState {
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  transfers: CapabilityStatus;
}

/** An Express account as the emulator keeps it; `accountView` (connect.ts) turns it into Stripe's JSON. */
export interface StoredAccount extends AccountState {
  id: string;
  created: number;
  email: string | null;
  country: string;
  metadata: Record<string, string>;
  /** whether `capabilities[transfers][requested]=true` was sent: without it there is no transfers capability */
  transfersRequested: boolean;
  apiVersion: string;
  /** `POST /__control/stripe/accounts/:id/refuse-transfers`: every transfer to it is refused with this */
  refuseTransfers: { status: number; code: string; message: string } | null;
}

/** An Account Link: single use (opening it spends it), expiring 300 s after creation like Stripe's. */
export interface StoredAccountLink {
  token: string;
  account: string;
  created: number;
  expires_at: number;
  return_url: string;
  refresh_url: string;
  /** set when the page was first opened: a second visit goes to `refresh_url` */
  openedAt: number | null;
  /** set when a button on the page was used: the page then only redirects to `refresh_url` */
  finishedAt: number | null;
}

export interface TransferReversal {
  id: string;
  object: "transfer_reversal";
  amount: number;
  balance_transaction: string;
  created: number;
  currency: string;
  destination_payment_refund: string;
  metadata: Record<string, string>;
  source_refund: null;
  transfer: string;
}

/** A Transfer as the emulator keeps it; `transferView` (transfers.ts) turns it into Stripe's JSON. */
export interface StoredTransfer {
  id: string;
  amount: number;
  currency: string;
  created: number;
  description: string | null;
  destination: string;
  destinationPayment: string;
  balanceTransaction: string;
  metadata: Record<string, string>;
  transferGroup: string | null;
  reversals: TransferReversal[];
  apiVersion: string;
  /** the `Stripe-Account` header the create was sent with (a platform transfer needs none) */
  stripeAccountHeader: string | null;
}

export interface StripeStore {
  checkoutSessions: Map<string, StoredSession>;
  paymentIntents: Map<string, PaymentIntent>;
  charges: Map<string, StoredCharge>;
  /** every refund, oldest first */
  refunds: Refund[];
  disputes: Map<string, Dispute>;
  events: SentEvent[];
  failures: StripeFailure[];
  accounts: Map<string, StoredAccount>;
  /** by the token in their `url` */
  accountLinks: Map<string, StoredAccountLink>;
  /** every transfer, oldest first */
  transfers: StoredTransfer[];
}

export const newStripeStore = (): StripeStore => ({
  checkoutSessions: new Map(),
  paymentIntents: new Map(),
  charges: new Map(),
  refunds: [],
  disputes: new Map(),
  events: [],
  failures: [],
  accounts: new Map(),
  accountLinks: new Map(),
  transfers: [],
});

/** The session as the API sees it: without the emulator's own fields. */
export function publicSession(s: StoredSession): StripeSession {
  const { productName: _p, apiVersion: _a, paymentIntentMetadata: _m, ...rest } = s;
  return rest;
}
