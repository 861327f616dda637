/** A ServiceContext for background work (queue consumer, cron): primary D1, no request. */
import { getConfig } from "../config";
import { openPrimary } from "../db/client";
import type { Env } from "../env";
import type { ServiceContext } from "../http/context";

export function jobContext(env: Env, id: string, ctx?: ExecutionContext): ServiceContext {
  const handle = openPrimary(env.DB);
  return {
    env,
    config: getConfig(env),
    db: handle.db,
    d1: handle.d1,
    requestId: id,
    defer: (p) => (ctx ? ctx.waitUntil(p) : void p.catch(() => undefined)),
  };
}
