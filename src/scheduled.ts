/** Cron: periodic sweeps. Each task is idempotent, so a late or doubled run changes nothing twice. */
import type { Env } from "./env";
import { purgeExpired } from "./jobs/cleanup";
import { jobContext } from "./jobs/context";
import { recoverPendingOrders } from "./modules/credits/recovery";
import { sweepWebhooks } from "./modules/integrations/sweep";
import { scheduledPayouts } from "./modules/payouts/run";
import { autoPublishReports } from "./modules/recordings/auto-publish";
import { sweepStaleRecordings } from "./modules/recordings/sweep";
import { sendReminders } from "./modules/sessions/reminders";
import { sweepMissingRooms } from "./modules/sessions/rooms";
import { sweepAndContinue } from "./modules/sessions/sweeps";
import { sessionSweeps } from "./queues/messages";

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const svc = await jobContext(env, `cron:${controller.scheduledTime}`, ctx);
  const tasks: [string, () => Promise<unknown>][] = [
    ["pending orders", () => recoverPendingOrders(svc)],
    ["reminders", () => sendReminders(svc)],
    ["stale recordings", () => sweepStaleRecordings(svc)],
    ["report auto-publish", () => autoPublishReports(svc)],
    ["missing video rooms", () => sweepMissingRooms(svc)],
    ["expired records", () => purgeExpired(svc)],
    // One bounded batch of each lifecycle sweep; a full batch continues on the jobs queue.
    ...sessionSweeps.map((sweep): [string, () => Promise<unknown>] => [
      `sessions ${sweep}`,
      () => sweepAndContinue(svc, sweep),
    ]),
    // after the settlement sweeps, so the daily run pays what they just settled
    ["payouts", () => scheduledPayouts(svc)],
    // last: it fans out what the sweeps above announced
    ["outgoing webhooks", () => sweepWebhooks(svc)],
  ];
  for (const [name, task] of tasks) {
    try {
      await task();
    } catch (err) {
      console.log(JSON.stringify({ level: "error", msg: "cron task failed", task: name, error: String(err) }));
    }
  }
}
