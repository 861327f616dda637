/**
 * The demo's integrator: before the journey starts, an admin registers an outgoing webhook
 * endpoint at the emulator's receiver (`/hooks/demo-<tag>`) for every event type and hands the
 * receiver the secret it was shown once; at the end, every event of the journey has arrived there,
 * each verified by the receiver with the SDK's verifyWebhook, and the endpoint's delivery log says
 * the same. Every API call goes through the typed SDK.
 */
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import { type Client, poll, type Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

interface Received {
  webhookId: string;
  type: string;
  verified: boolean | null;
}

export interface WebhooksDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  tag: string;
}

export async function subscribeReceiver({ c, step, admin, tag }: WebhooksDemo) {
  const name = `demo-${tag}`;
  const asAdmin = sdkAs(c, admin);
  const endpoint = unwrap(
    await asAdmin.POST("/v1/admin/webhook-endpoints", {
      params: { header: idempotencyKey(`demo-webhooks-${tag}`) },
      body: { url: `${c.emulatorUrl}/hooks/${name}`, events: ["*"], description: "The demo's integrator" },
    }),
  );
  await c.emulator(`/__control/hooks/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ secret: endpoint.secret }),
  });
  step(`Admin registered an outgoing webhook endpoint for every event at the emulator's receiver`, {
    id: endpoint.id,
    url: endpoint.url,
    secret: `${endpoint.secret.slice(0, 10)}… (shown once, handed to the receiver)`,
  });
  return { name, endpointId: endpoint.id };
}

export async function webhooksJourney(
  { c, step, admin }: WebhooksDemo,
  receiver: { name: string; endpointId: string },
) {
  const asAdmin = sdkAs(c, admin);
  // the journey's last event is the tutor's payout: wait for it, and for the log to have settled
  const log = await poll("the endpoint's deliveries to settle", 60_000, async () => {
    const page = unwrap(
      await asAdmin.GET("/v1/admin/webhook-endpoints/{id}/deliveries", {
        params: { path: { id: receiver.endpointId }, query: { limit: 100 } },
      }),
    );
    const paid = page.items.some((d) => d.eventType === "payout.paid");
    return paid && page.items.every((d) => d.status === "delivered") ? page.items : undefined;
  });
  const got = await poll("every delivery at the receiver", 30_000, async () => {
    const all = await c.emulator<Received[]>(`/__control/hooks/${receiver.name}/deliveries`);
    return new Set(all.map((d) => d.webhookId)).size >= log.length ? all : undefined;
  });
  const byType: Record<string, number> = {};
  for (const d of got) byType[d.type] = (byType[d.type] ?? 0) + 1;
  const unverified = got.filter((d) => d.verified !== true);
  if (unverified.length > 0) throw new Error(`${unverified.length} deliveries did not verify`);
  step(
    `The journey's ${log.length} events reached the receiver, each verified with the SDK's verifyWebhook (${c.emulatorUrl}/hooks/${receiver.name})`,
    byType,
  );
}
