/**
 * After a change that wrote an outbox event has committed: ask for a fan-out now (a
 * `webhooks.dispatch` job). A lost nudge costs only latency — the cron's fan-out finds the event —
 * so a queue hiccup is logged, never turned into an error for a change that did happen. No import of
 * the renderer here: the modules that write events import this file, and the renderer imports them.
 */
import type { ServiceContext } from "../../context";
import type { Env } from "../../env";
import { enqueueMany } from "../../queues/enqueue";

const logFailure = (err: unknown) =>
  console.log(JSON.stringify({ level: "error", msg: "webhook nudge failed", error: String(err) }));

export function announceEvents(svc: Pick<ServiceContext, "env" | "defer">): void {
  svc.defer(enqueueMany(svc, [{ type: "webhooks.dispatch" }]).catch(logFailure));
}

/** The same from the CreditLedger object, which has an env and its own waitUntil. */
export function announceEventsFrom(env: Env, waitUntil: (p: Promise<unknown>) => void): void {
  waitUntil(env.WEBHOOKS.send({ type: "webhooks.dispatch" }).catch(logFailure));
}
