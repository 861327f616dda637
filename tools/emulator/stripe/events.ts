/**
 * Stripe events: built like Stripe's (pretty-printed JSON, the API version of the object's origin),
 * signed, POSTed to `${apiUrl}/v1/webhooks/stripe` and retried (1 s, 2 s, 4 s) when the API does not
 * answer 2xx — Stripe retries for days; the emulator compresses that into seconds.
 */
import { signStripePayload } from "../../common/stripe-signature.ts";
import { rid, type State, unixSeconds } from "../state.ts";
import type { SentEvent } from "./store.ts";

export type DeliveryResult = { status: number; body: string } | { error: string };

export interface EventContext {
  sessionId: string | null;
  paymentIntent: string | null;
  /** the `Stripe-Version` the payment was made with */
  apiVersion: string;
  /** the API request that caused the event; null for the dashboard and Stripe's own doing */
  request: { id: string; idempotency_key: string | null } | null;
  /** a Connect event: the connected account it happened on (the event's top-level `account`) */
  account?: string;
}

/** Connect events are signed with the Connect endpoint's secret when the emulator has one. */
const secretOf = (state: State, ev: SentEvent) =>
  ev.account ? (state.connectWebhookSecret ?? state.webhookSecret) : state.webhookSecret;

/** Builds, records and signs an event now, so its `data.object` is the object as it is at this instant. */
export function createEvent(
  state: State,
  type: string,
  object: unknown,
  ctx: EventContext,
  opts: { withheld?: boolean; previousAttributes?: Record<string, unknown> } = {},
): SentEvent {
  const id = rid("evt");
  const event = {
    id,
    object: "event",
    ...(ctx.account ? { account: ctx.account } : {}),
    api_version: ctx.apiVersion,
    created: unixSeconds(),
    data: opts.previousAttributes ? { object, previous_attributes: opts.previousAttributes } : { object },
    livemode: false,
    pending_webhooks: opts.withheld ? 0 : 1,
    request: ctx.request ?? { id: null, idempotency_key: null },
    type,
  };
  // Stripe sends pretty-printed JSON
  const payload = JSON.stringify(event, null, 2);
  const ev: SentEvent = {
    id,
    type,
    account: ctx.account ?? null,
    sessionId: ctx.sessionId,
    paymentIntent: ctx.paymentIntent,
    payload,
    // signed at once, so a test can replay a withheld event; every delivery signs it anew
    signature: "",
    ...(opts.withheld ? { withheld: true as const } : {}),
    deliveries: [],
  };
  const secret = secretOf(state, ev);
  if (secret) ev.signature = signStripePayload(payload, secret);
  state.stripe.events.push(ev);
  return ev;
}

async function deliver(state: State, ev: SentEvent): Promise<DeliveryResult> {
  const { apiUrl, log } = state;
  const webhookSecret = secretOf(state, ev);
  if (!apiUrl || !webhookSecret) {
    const error = `cannot deliver ${ev.type}: ${!apiUrl ? "the API URL" : "the Stripe webhook secret"} is not configured (start the emulator with API_URL and STRIPE_WEBHOOK_SECRET)`;
    log.warn(error);
    ev.deliveries.push({ error, at: Date.now() });
    return { error };
  }
  const target = `${apiUrl.replace(/\/+$/, "")}/v1/webhooks/stripe`;
  // signed anew for each attempt, like Stripe: a late retry still passes the timestamp tolerance
  const signature = signStripePayload(ev.payload, webhookSecret);
  ev.signature = signature;
  try {
    const r = await fetch(target, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": signature,
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
      body: ev.payload,
    });
    const body = await r.text();
    ev.deliveries.push({ status: r.status, body, at: Date.now() });
    state.deliveries.push({ kind: "stripe", id: ev.id, target, status: r.status, at: Date.now() });
    if (r.ok) log.info(`stripe ${ev.type} ${ev.id} → ${r.status}`);
    else log.warn(`stripe webhook ${ev.type} ${ev.id} → HTTP ${r.status}: ${body.slice(0, 300)}`);
    return { status: r.status, body };
  } catch (err) {
    const error = `${target}: ${(err as Error).message}`;
    ev.deliveries.push({ error, at: Date.now() });
    state.deliveries.push({ kind: "stripe", id: ev.id, target, error, at: Date.now() });
    log.warn(`stripe webhook ${ev.type} ${ev.id} not delivered: ${error}`);
    return { error };
  }
}

const failed = (r: DeliveryResult) => !("status" in r) || r.status >= 300;

/**
 * Delivers the events one after the other (in the order Stripe emits them) and schedules retries
 * for each first attempt that failed. Resolves with the first attempts' results.
 */
export async function dispatch(state: State, events: SentEvent[]): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  for (const ev of events) {
    const first = await deliver(state, ev);
    results.push(first);
    if (!failed(first)) continue;
    let attempt = 0;
    const retry = () => {
      attempt += 1;
      void deliver(state, ev).then((r) => {
        if (failed(r) && attempt < 3) state.later(1000 * 2 ** attempt, retry);
      });
    };
    state.later(1000, retry);
  }
  return results;
}

/** What routes answer about the events an action sent: ids, types, first delivery (null if withheld). */
export const sentSummary = (events: SentEvent[], deliveries: DeliveryResult[]) =>
  events.map((ev, i) => ({ event: { id: ev.id, type: ev.type }, delivery: deliveries[i] ?? null }));
