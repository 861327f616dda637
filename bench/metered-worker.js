/**
 * The bench servers' entry point (`wrangler dev bench/metered-worker.js`): the Worker of src/index.ts
 * unchanged — the same fetch handler, Durable Object class and bindings (wrangler.toml) — with its
 * queue consumer and cron also counting their D1 rows, as every request already does outside
 * production (src/db/meter.ts: the job's own statements and its CreditLedger operations'). A job
 * answers nobody, so it logs its count as one `bench-rows {json}` line per message (per cron tick),
 * which bench/rows.ts reads back from wrangler's log: what the settlement sweep, the webhook fan-out,
 * the payment and payout jobs cost per item.
 *
 * The webhook queue's consumer runs a batch's messages side by side: each message is metered as a
 * batch of its own (the same concurrency; each pays the job context's one test-clock read, which the
 * consumer shares per batch). Every other queue runs its messages one at a time: they share the
 * batch's context, and the count switches to the next message when one is acked or retried.
 * Plain JavaScript on purpose: tsconfig.node.json type-checks bench/ for Node, and this file is
 * bundled by wrangler for workerd.
 */
import { meteredEnv, newMeter, topStatements } from "../src/db/meter.ts";
import worker from "../src/index.ts";
import { WEBHOOK_QUEUE } from "../src/queues/consumer.ts";

export { CreditLedger } from "../src/index.ts";

/** @param {Record<string, unknown>} fields */
const report = (fields) => console.log(`bench-rows ${JSON.stringify(fields)}`);

/** @param {{ read: number; written: number; statements: number; bySql: Map<string, unknown> }} m */
const counted = (m) => ({ read: m.read, written: m.written, statements: m.statements, top: topStatements(m) });

/** @param {{ body: unknown }} msg */
const typeOf = (msg) => {
  const body = /** @type {{ type?: unknown } | null} */ (msg.body);
  return typeof body?.type === "string" ? body.type : "(invalid)";
};

/**
 * A meter whose counts go to the message running now (`switchTo` starts the next one).
 * @returns {{ meter: ReturnType<typeof newMeter>; current: () => ReturnType<typeof newMeter>; switchTo: () => void }}
 */
function switchableMeter() {
  let now = newMeter();
  const meter = /** @type {ReturnType<typeof newMeter>} */ ({
    get read() {
      return now.read;
    },
    set read(v) {
      now.read = v;
    },
    get written() {
      return now.written;
    },
    set written(v) {
      now.written = v;
    },
    get statements() {
      return now.statements;
    },
    set statements(v) {
      now.statements = v;
    },
    get bySql() {
      return now.bySql;
    },
  });
  return {
    meter,
    current: () => now,
    switchTo: () => {
      now = newMeter();
    },
  };
}

export default {
  fetch: worker.fetch,

  /**
   * @param {MessageBatch<unknown>} batch
   * @param {Record<string, unknown>} env
   * @param {ExecutionContext} ctx
   */
  async queue(batch, env, ctx) {
    const started = Date.now();
    if (batch.queue === WEBHOOK_QUEUE) {
      await Promise.all(
        batch.messages.map(async (msg) => {
          const m = newMeter();
          const one = {
            queue: batch.queue,
            messages: [msg],
            ackAll: () => msg.ack(),
            retryAll: (/** @type {QueueRetryOptions | undefined} */ o) => msg.retry(o),
          };
          const t = Date.now();
          try {
            await worker.queue(/** @type {MessageBatch<unknown>} */ (one), meteredEnv(env, m), ctx);
          } finally {
            report({ queue: batch.queue, type: typeOf(msg), ms: Date.now() - t, ...counted(m) });
          }
        }),
      );
      return;
    }
    const s = switchableMeter();
    let t = started;
    const done = (/** @type {{ body: unknown }} */ msg, /** @type {string} */ outcome) => {
      report({ queue: batch.queue, type: typeOf(msg), outcome, ms: Date.now() - t, ...counted(s.current()) });
      s.switchTo();
      t = Date.now();
    };
    // plain objects: a native Message's getters refuse any other `this`
    const messages = batch.messages.map((msg) => ({
      id: msg.id,
      timestamp: msg.timestamp,
      body: msg.body,
      attempts: msg.attempts,
      ack: () => {
        done(msg, "ack");
        msg.ack();
      },
      retry: (/** @type {QueueRetryOptions | undefined} */ o) => {
        done(msg, "retry");
        msg.retry(o);
      },
    }));
    const metered = { queue: batch.queue, messages, ackAll: () => batch.ackAll(), retryAll: (o) => batch.retryAll(o) };
    await worker.queue(/** @type {MessageBatch<unknown>} */ (metered), meteredEnv(env, s.meter), ctx);
  },

  /**
   * @param {ScheduledController} controller
   * @param {Record<string, unknown>} env
   * @param {ExecutionContext} ctx
   */
  async scheduled(controller, env, ctx) {
    const m = newMeter();
    const t = Date.now();
    try {
      await worker.scheduled(controller, meteredEnv(env, m), ctx);
    } finally {
      report({ cron: controller.cron, ms: Date.now() - t, ...counted(m) });
    }
  },
};
