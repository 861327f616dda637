/** Entry point: wires fetch, queue and scheduled, and exports the Durable Object class. */
import { createApp } from "./app";
import type { Env } from "./env";
import { handleQueue } from "./queues/consumer";
import type { QueueMessage } from "./queues/messages";
import { runScheduled } from "./scheduled";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: runScheduled,
} satisfies ExportedHandler<Env, QueueMessage>;

export { CreditLedger } from "./ledger/credit-ledger";
