/** Stripe events: built like Stripe's, signed, POSTed to `${apiUrl}/v1/webhooks/stripe`, retried on failure. */
import { randomBytes } from "node:crypto";
import { signStripePayload, unixSeconds } from "../../shared/stripe-signature.ts";
import type { State } from "../state.ts";
import { publicSession, type SentEvent, type StoredSession } from "./store.ts";

export type DeliveryResult = { status: number; body: string } | { error: string };

async function deliver(state: State, ev: SentEvent): Promise<DeliveryResult> {
  const { apiUrl, webhookSecret, log } = state;
  if (!apiUrl || !webhookSecret) {
    const error = `cannot deliver ${ev.type}: ${!apiUrl ? "the API URL" : "the Stripe webhook secret"} is not configured (start the emulator with API_URL and STRIPE_WEBHOOK_SECRET)`;
    log.warn(error);
    ev.deliveries.push({ error, at: Date.now() });
    return { error };
  }
  const target = `${apiUrl.replace(/\/+$/, "")}/v1/webhooks/stripe`;
  // signed anew for each attempt, like Stripe: a retry hours later still passes the timestamp tolerance
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

/** Sends the event now; like Stripe, retries (1 s, 2 s, 4 s) a delivery that did not get a 2xx. */
export async function sendStripeEvent(state: State, type: string, session: StoredSession) {
  const id = `evt_${randomBytes(12).toString("hex")}`;
  const event = {
    id,
    object: "event",
    api_version: session.apiVersion,
    created: unixSeconds(),
    data: { object: publicSession(session) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  const ev: SentEvent = {
    id,
    type,
    sessionId: session.id,
    signature: "",
    // Stripe sends pretty-printed JSON
    payload: JSON.stringify(event, null, 2),
    deliveries: [],
  };
  state.stripe.events.push(ev);
  const first = await deliver(state, ev);
  if (!("status" in first) || first.status >= 300) {
    let attempt = 0;
    const retry = () => {
      attempt += 1;
      void deliver(state, ev).then((r) => {
        if ((!("status" in r) || r.status >= 300) && attempt < 3) state.later(1000 * 2 ** attempt, retry);
      });
    };
    state.later(1000, retry);
  }
  return { event: { id: ev.id, type }, delivery: first };
}
