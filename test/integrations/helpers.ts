/**
 * Outgoing webhooks in the Workers tests: endpoints pointing at the provider emulator's receiver
 * (`/hooks/:name`, steered through `/__control/hooks/:name`), the outbox rows of an object, and one
 * delivery attempt or sweep run on demand through a job context (the test clock moves "now").
 */
import { jobContext } from "../../src/jobs/context";
import { deliverJob } from "../../src/modules/integrations/deliver";
import { dispatchEvents } from "../../src/modules/integrations/fanout";
import { call, createUser, env, json, type TestUser } from "../helpers/api";

export interface Endpoint {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  secret: string;
  failingSince: number | null;
  disabledAt: number | null;
}

export interface Received {
  webhookId: string;
  timestamp: string;
  signature: string;
  type: string;
  body: string;
  status: number;
  verified: boolean | null;
}

export interface DeliveryRow {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseBody: string | null;
  nextAttemptAt: number | null;
}

export const receiverName = () => `r-${crypto.randomUUID().slice(0, 12)}`;
export const receiverUrl = (name: string) => `${env.FAKE_PROVIDERS_URL}/hooks/${name}`;

export async function setReceiver(name: string, opts: { secret?: string | null; mode?: "ok" | "hang" }) {
  const res = await fetch(`${env.FAKE_PROVIDERS_URL}/__control/hooks/${name}`, {
    method: "POST",
    body: JSON.stringify(opts),
  });
  if (!res.ok) throw new Error(`receiver control: ${res.status}`);
}

export async function received(name: string): Promise<Received[]> {
  return (await fetch(`${env.FAKE_PROVIDERS_URL}/__control/hooks/${name}/deliveries`)).json();
}

export async function newAdmin(): Promise<TestUser> {
  return createUser("admin");
}

/** An endpoint for `events` at the receiver `name`, whose secret the receiver verifies with. */
export async function endpointAt(
  admin: TestUser,
  name: string,
  events: string[] = ["*"],
  opts: { register?: boolean } = {},
): Promise<Endpoint> {
  const res = await call("/v1/admin/webhook-endpoints", {
    token: admin.token,
    body: { url: receiverUrl(name), events, description: "test receiver" },
  });
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  const endpoint = await json<Endpoint>(res);
  if (opts.register ?? true) await setReceiver(name, { secret: endpoint.secret });
  return endpoint;
}

/** The event types the outbox holds for an object, in the order they were written. */
export async function eventTypesOf(objectId: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT type FROM webhookEvents WHERE objectId = ? ORDER BY createdAt, rowid",
  )
    .bind(objectId)
    .all<{ type: string }>();
  return results.map((r) => r.type);
}

export async function deliveriesOf(endpointId: string): Promise<DeliveryRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM webhookDeliveries WHERE endpointId = ? ORDER BY createdAt, id",
  )
    .bind(endpointId)
    .all<DeliveryRow>();
  return results;
}

export async function jobSvc() {
  return jobContext(env, `test:${crypto.randomUUID()}`);
}

/** Runs the fan-out now (the nudge's job may be on its way too: both are idempotent). */
export async function dispatchNow() {
  await dispatchEvents(await jobSvc(), 100);
}

/** One attempt of a delivery now, as its queue job would run it. */
export async function attemptNow(deliveryId: string) {
  await deliverJob(await jobSvc(), { deliveryId });
}
