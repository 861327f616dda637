/**
 * Standard Webhooks signing with the specification's own implementation (`standardwebhooks`), not
 * hand-written HMAC code: `webhook-signature` is `v1,<base64 HMAC-SHA256("<id>.<timestamp>.<body>")>`
 * keyed with the base64 part of the `whsec_` secret. While a rotated-out secret is still in its grace
 * period the header carries both signatures, space-separated, as the specification allows — a
 * receiver that has not switched yet keeps verifying.
 */
import { Webhook } from "standardwebhooks";
import { base64Encode } from "../../lib/crypto";

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

/** A fresh secret: `whsec_` and 32 random bytes in base64 (what the specification's tools generate). */
export function newSecret(): string {
  return `whsec_${base64Encode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export interface SigningKeys {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
}

/**
 * The three headers of one attempt. `sentAt` is the wall clock, not the domain clock: receivers
 * compare the timestamp with their own clock (the specification's 5-minute tolerance), and the
 * development test clock must not make every delivery look stale.
 */
export function signatureHeaders(
  keys: SigningKeys,
  eventId: string,
  body: string,
  sentAt: Date,
  now: number,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  const secrets = [keys.secret];
  if (keys.previousSecret && (keys.previousSecretExpiresAt ?? 0) > now) secrets.push(keys.previousSecret);
  return {
    "webhook-id": eventId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": secrets.map((s) => new Webhook(s).sign(eventId, sentAt, body)).join(" "),
  };
}
