/** The `email.send` job: sends once per idempotency key (recorded in `emailDeliveries`). */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../context";
import { emailDeliveries } from "../db/schema";
import { emailSender } from "../providers/resend";
import type { EmailMessage } from "../queues/messages";

export async function sendEmailJob(svc: ServiceContext, m: EmailMessage): Promise<void> {
  const sent = await svc.db.query.emailDeliveries.findFirst({
    where: eq(emailDeliveries.idempotencyKey, m.idempotencyKey),
  });
  if (sent) return;
  const sender = emailSender(svc.config);
  if (!sender) throw new Error("RESEND_API_KEY is not configured");
  const { id } = await sender.send(m);
  await svc.db
    .insert(emailDeliveries)
    .values({ idempotencyKey: m.idempotencyKey, providerId: id, sentAt: Date.now() })
    .onConflictDoNothing();
}
