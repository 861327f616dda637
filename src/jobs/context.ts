/** A ServiceContext for background work (queue consumer, cron): primary D1, no request, the (test) clock. */
import { getConfig } from "../config";
import type { ServiceContext } from "../context";
import { openPrimary } from "../db/client";
import type { Env } from "../env";
import { loadClock } from "../lib/clock";

export async function jobContext(env: Env, id: string, ctx?: ExecutionContext): Promise<ServiceContext> {
  const handle = openPrimary(env.DB);
  const config = getConfig(env);
  return {
    env,
    config,
    db: handle.db,
    d1: handle.d1,
    requestId: id,
    clock: await loadClock(env.DB, config),
    defer: (p) => (ctx ? ctx.waitUntil(p) : void p.catch(() => undefined)),
  };
}
