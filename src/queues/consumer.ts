/**
 * Queue consumer. Each message is validated with its zod schema, dispatched by type and acked only
 * after its effect is durable. Transient failures are retried with exponential backoff; after
 * `max_retries` the queue moves the message to the dead-letter queue, whose consumer records it in
 * `deadLetters` for admins. Messages that can never succeed (invalid body, permanent provider
 * refusal) are recorded there at once instead of being retried.
 */

import type { ServiceContext } from "../context";
import { deadLetters } from "../db/schema";
import type { Env } from "../env";
import { jobContext } from "../jobs/context";
import { newId, sha256Hex } from "../lib/crypto";
import { alertPaymentJobExhausted } from "../modules/credits/recovery";
import { ProviderError } from "../providers/errors";
import { jobHandlers, onRetriesExhausted } from "./handlers";
import { type QueueMessage, queueMessage } from "./messages";
import { PermanentJobError } from "./permanent";

export { PermanentJobError };

/** The outgoing webhooks' queue (wrangler.toml). */
export const WEBHOOK_QUEUE = "tutorloop-webhooks";

export function backoffSeconds(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

/**
 * E-mails can carry login codes, and their address outlives a closed account: only the envelope is
 * kept for admins, the address as its domain and a SHA-256 of it (an admin who knows an address can
 * find its dead letters; nobody can read one back). E-mail jobs are not replayable anyway.
 */
async function redactForStorage(body: unknown): Promise<unknown> {
  const b = body as { type?: unknown; to?: unknown; idempotencyKey?: unknown; subject?: unknown } | null;
  if (b?.type !== "email.send") return body;
  const to = typeof b.to === "string" ? b.to.trim().toLowerCase() : "";
  return {
    type: b.type,
    toDomain: to.split("@")[1] ?? null,
    toSha256: to ? await sha256Hex(to) : null,
    idempotencyKey: b.idempotencyKey,
  };
}

async function recordDeadLetter(svc: ServiceContext, msg: Message<unknown>, queue: string, reason?: string) {
  const body = msg.body as { type?: unknown } | null;
  await svc.db
    .insert(deadLetters)
    .values({
      id: newId("dlq"),
      messageId: msg.id,
      queue,
      type: typeof body?.type === "string" ? body.type : null,
      body: JSON.stringify({ body: await redactForStorage(msg.body), reason: reason ?? null }).slice(0, 100_000),
      attempts: msg.attempts,
      createdAt: svc.clock.now(),
    })
    .onConflictDoNothing();
}

function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown>) {
  console.log(JSON.stringify({ level, msg, ...fields }));
}

export async function dispatch(svc: ServiceContext, message: QueueMessage): Promise<void> {
  const handler = jobHandlers[message.type] as (svc: ServiceContext, m: QueueMessage) => Promise<void>;
  await handler(svc, message);
}

export async function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  const svc = await jobContext(env, `queue:${batch.queue}`, ctx);
  if (batch.queue.endsWith("-dlq")) {
    for (const msg of batch.messages) {
      await recordDeadLetter(svc, msg, batch.queue, "retries exhausted");
      const parsed = queueMessage.safeParse(msg.body);
      if (parsed.success) await onRetriesExhausted(svc, parsed.data, msg.attempts);
      log("error", "dead letter recorded", { queue: batch.queue, messageId: msg.id });
      msg.ack();
    }
    return;
  }
  const one = (msg: Message<unknown>) => handleMessage(svc, batch.queue, msg);
  if (batch.queue !== WEBHOOK_QUEUE) {
    for (const msg of batch.messages) await one(msg);
    return;
  }
  // Webhook attempts wait on other people's servers (up to 10 s each): a batch runs them side by
  // side. Its fan-out nudges carry nothing but "look at the outbox": one run answers them all (run
  // side by side, each would read the same events and lose the race to the first).
  const isNudge = (m: Message<unknown>) => (m.body as { type?: unknown } | null)?.type === "webhooks.dispatch";
  const nudges = batch.messages.filter(isNudge);
  const [first, ...repeats] = nudges;
  const others = batch.messages.filter((m) => !isNudge(m));
  await Promise.all([
    ...others.map(one),
    first
      ? one(first).then(() => {
          for (const m of repeats) m.ack();
        })
      : Promise.resolve(),
  ]);
}

async function handleMessage(svc: ServiceContext, queue: string, msg: Message<unknown>): Promise<void> {
  const parsed = queueMessage.safeParse(msg.body);
  if (!parsed.success) {
    await recordDeadLetter(svc, msg, queue, `invalid message: ${parsed.error.issues[0]?.message ?? "schema"}`);
    log("error", "invalid queue message", { messageId: msg.id });
    msg.ack();
    return;
  }
  const type = parsed.data.type;
  try {
    await dispatch({ ...svc, requestId: `job:${msg.id}` }, parsed.data);
    msg.ack();
  } catch (err) {
    const permanent = err instanceof PermanentJobError || (err instanceof ProviderError && !err.transient);
    const reason = err instanceof Error ? err.message : String(err);
    if (permanent) {
      await recordDeadLetter(svc, msg, queue, reason);
      // a payment job that can never succeed needs an admin as much as one that ran out of retries
      await alertPaymentJobExhausted(svc, parsed.data, msg.attempts);
      log("error", "job failed permanently", { type, messageId: msg.id, reason });
      msg.ack();
    } else {
      log("warn", "job failed; will retry", { type, messageId: msg.id, attempts: msg.attempts, reason });
      msg.retry({ delaySeconds: backoffSeconds(msg.attempts) });
    }
  }
}
