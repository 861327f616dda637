/** One handler per message type. Each is idempotent: running it twice changes nothing the second time. */

import type { ServiceContext } from "../context";
import { sendEmailJob } from "../email/send";
import { chargeEventJob } from "../modules/credits/charges";
import { fulfilOrderJob } from "../modules/credits/fulfil";
import { alertPaymentJobExhausted, refundPaymentJob } from "../modules/credits/recovery";
import { deliverJob } from "../modules/integrations/deliver";
import { dispatchJob } from "../modules/integrations/fanout";
import { payoutRunJob } from "../modules/payouts/run";
import { transferPayoutJob } from "../modules/payouts/transfer";
import { regenerateJob, reportJob } from "../modules/recordings/report";
import { markFailed, transcriptionJob } from "../modules/recordings/transcribe";
import { createRoomJob } from "../modules/sessions/rooms";
import { sweepJob } from "../modules/sessions/sweeps";
import { eraseAccountFilesJob } from "../modules/users/account-files";
import type { QueueMessage } from "./messages";

type Handlers = {
  [T in QueueMessage["type"]]: (svc: ServiceContext, m: Extract<QueueMessage, { type: T }>) => Promise<void>;
};

export const jobHandlers: Handlers = {
  "email.send": sendEmailJob,
  "stripe.fulfil": fulfilOrderJob,
  "stripe.charge": chargeEventJob,
  "stripe.refund_payment": refundPaymentJob,
  "stripe.transfer": transferPayoutJob,
  "payouts.run": payoutRunJob,
  "video.create_room": createRoomJob,
  "transcription.request": transcriptionJob,
  "report.generate": reportJob,
  "report.regenerate": regenerateJob,
  "account.erase_files": eraseAccountFilesJob,
  "sessions.sweep": sweepJob,
  "webhooks.dispatch": dispatchJob,
  "webhooks.deliver": deliverJob,
};

/**
 * What a job's final failure means for the product, beyond the dead-letter record: a transcription
 * that could never be requested fails its recording with a reason (instead of staying `pending`); a
 * payment job that gave up alerts the admins (the pending-order sweep still settles a paid order).
 */
export async function onRetriesExhausted(svc: ServiceContext, m: QueueMessage, attempts: number): Promise<void> {
  await alertPaymentJobExhausted(svc, m, attempts);
  if (m.type === "transcription.request") {
    await markFailed(svc, m.recordingId, `Deepgram was unavailable (gave up after ${attempts} attempts)`);
  }
}
