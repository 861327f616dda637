/** Producers: every message is validated against its schema before it is sent, to its queue. */

import type { ServiceContext } from "../context";
import type { Env } from "../env";
import { type EmailMessage, type QueueMessage, queueMessage } from "./messages";

/**
 * Payments go to their own queue, and so do outgoing webhooks (an attempt may wait 10 s for a slow
 * endpoint: it must never hold up e-mails or crediting); everything else shares the jobs queue.
 */
function queueFor(env: Env, message: QueueMessage): Queue<QueueMessage> {
  if (message.type.startsWith("stripe.")) return env.PAYMENTS;
  if (message.type.startsWith("webhooks.")) return env.WEBHOOKS;
  return env.JOBS;
}

export async function enqueue(svc: Pick<ServiceContext, "env">, message: QueueMessage, delaySeconds?: number) {
  const body = queueMessage.parse(message);
  await queueFor(svc.env, body).send(body, delaySeconds ? { delaySeconds } : undefined);
}

const SEND_BATCH_MAX = 100;

export async function enqueueMany(svc: Pick<ServiceContext, "env">, messages: QueueMessage[]) {
  const bodies = messages.map((m) => queueMessage.parse(m));
  for (const queue of [svc.env.JOBS, svc.env.PAYMENTS, svc.env.WEBHOOKS]) {
    const mine = bodies.filter((b) => queueFor(svc.env, b) === queue);
    // a Queues batch holds at most 100 messages
    for (let i = 0; i < mine.length; i += SEND_BATCH_MAX) {
      await queue.sendBatch(mine.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body })));
    }
  }
}

export async function enqueueEmail(svc: Pick<ServiceContext, "env">, email: Omit<EmailMessage, "type">) {
  await enqueue(svc, { type: "email.send", ...email });
}

/**
 * Jobs that follow a change already committed (e-mails, rooms): sent after the response, and a queue
 * hiccup is logged, never turned into an error for a client whose change did happen. The sweeps
 * (missing rooms, reminders) catch what is lost.
 */
export function enqueueAfterCommit(svc: Pick<ServiceContext, "env" | "defer">, messages: QueueMessage[]) {
  svc.defer(
    enqueueMany(svc, messages).catch((err) =>
      console.log(JSON.stringify({ level: "error", msg: "enqueue failed", error: String(err) })),
    ),
  );
}
