/**
 * Stripe's webhook signature (`Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`),
 * shared by the emulator (which signs the events it sends), the e2e suite and the bench (which forge
 * replays and bad signatures). One copy, so every tool signs exactly the way Stripe does.
 */
import { createHmac } from "node:crypto";

export const unixSeconds = (ms = Date.now()) => Math.floor(ms / 1000);

export function signStripePayload(payload: string, secret: string, t = unixSeconds()): string {
  const v1 = createHmac("sha256", secret).update(`${t}.${payload}`).digest("hex");
  return `t=${t},v1=${v1}`;
}
