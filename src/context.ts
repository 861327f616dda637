/**
 * What every service and job can reach, built once per request (http/middleware.ts) or per job
 * (jobs/context.ts): no Hono types, so queue and cron code build one too.
 */
import type { Config } from "./config";
import type { DbHandle } from "./db/client";
import type { UserContext } from "./db/schema";
import type { Env } from "./env";
import type { Clock } from "./lib/clock";

export interface AuthUser {
  id: string;
  email: string;
  name: string | null;
  context: UserContext;
  studentProfileId: string | null;
  tutorProfileId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Auth {
  userId: string;
  /** The token's role (the user's context when the token was minted). */
  role: UserContext;
  /** The token's session (refresh-token family, its `sid` claim); absent for an identity provider's token. */
  sessionId?: string;
  user: AuthUser;
}

export interface ServiceContext {
  env: Env;
  config: Config;
  db: DbHandle["db"];
  d1: DbHandle["d1"];
  requestId: string;
  /** "Now" for domain rules (the development test clock moves it; see lib/clock.ts). */
  clock: Clock;
  /** Runs work after the response (`ctx.waitUntil`) or inline in jobs. */
  defer(promise: Promise<unknown>): void;
}
