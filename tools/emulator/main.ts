/**
 * Runs the provider emulator on its own: `node tools/emulator/main.ts`.
 * EMULATOR_PORT (default 8789), EMULATOR_HOST (127.0.0.1), API_URL (where Stripe webhooks go),
 * STRIPE_WEBHOOK_SECRET (signs them), STRIPE_CONNECT_WEBHOOK_SECRET (signs Connect events; the
 * platform secret when unset), EMULATOR_LOG (requests | errors | quiet).
 * `npm run dev:offline` starts it together with wrangler dev; use this to point another setup at it.
 */
import { startEmulator } from "./server.ts";

const log = process.env.EMULATOR_LOG;
const emulator = await startEmulator({
  port: Number(process.env.EMULATOR_PORT ?? 8789),
  host: process.env.EMULATOR_HOST ?? "127.0.0.1",
  apiUrl: process.env.API_URL ?? "http://127.0.0.1:8787",
  stripeWebhookSecret: process.env.STRIPE_WEBHOOK_SECRET ?? null,
  stripeConnectWebhookSecret: process.env.STRIPE_CONNECT_WEBHOOK_SECRET ?? null,
  log: log === "errors" || log === "quiet" ? log : "requests",
});
console.log(`[emulator] listening on ${emulator.url} (inbox ${emulator.url}/inbox, webhooks ${emulator.url}/hooks)`);
if (!process.env.STRIPE_WEBHOOK_SECRET) {
  console.error("[emulator] ! STRIPE_WEBHOOK_SECRET is unset: hosted checkout cannot sign webhook events");
}
const stop = () => void emulator.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
