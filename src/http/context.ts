/** The Hono app's typed context: the request's services, caller and verified claims. */

import type { Auth, ServiceContext } from "../context";
import type { DbHandle } from "../db/client";
import type { UserContext } from "../db/schema";
import type { Env } from "../env";

export type { Auth, AuthUser, ServiceContext } from "../context";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    svc: ServiceContext;
    dbHandle: DbHandle;
    auth: Auth;
    /** Verified token claims, for routes whose user read is batched with their query. */
    claims: { sub: string; role: UserContext };
  };
}
