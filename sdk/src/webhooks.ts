/**
 * `verifyWebhook(secret, headers, body)`: checks a delivery of the platform's outgoing webhooks the
 * way the Standard Webhooks specification says (webhook-id, webhook-timestamp within 5 minutes,
 * webhook-signature `v1,<base64 HMAC-SHA256>`), with the specification's own implementation (the
 * `standardwebhooks` package) rather than hand-written HMAC code. Throws on a bad delivery.
 */
import { Webhook } from "standardwebhooks";

/** A delivery's body: `{ type, timestamp, data }` with `data` the object as the API returns it. */
export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: unknown;
}

export function verifyWebhook(
  secret: string,
  headers: Headers | Record<string, string | undefined>,
  body: string,
): WebhookEvent {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name]) ?? "";
  const wanted = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;
  const plain = Object.fromEntries(wanted.map((n) => [n, get(n)]));
  return new Webhook(secret).verify(body, plain) as WebhookEvent;
}
