/** Producers: every message is validated against its schema before it is sent. */
import type { ServiceContext } from "../http/context";
import { type EmailMessage, type QueueMessage, queueMessage } from "./messages";

export async function enqueue(svc: Pick<ServiceContext, "env">, message: QueueMessage, delaySeconds?: number) {
  await svc.env.JOBS.send(queueMessage.parse(message), delaySeconds ? { delaySeconds } : undefined);
}

export async function enqueueMany(svc: Pick<ServiceContext, "env">, messages: QueueMessage[]) {
  if (messages.length === 0) return;
  await svc.env.JOBS.sendBatch(messages.map((m) => ({ body: queueMessage.parse(m) })));
}

export async function enqueueEmail(svc: Pick<ServiceContext, "env">, email: Omit<EmailMessage, "type">) {
  await enqueue(svc, { type: "email.send", ...email });
}
