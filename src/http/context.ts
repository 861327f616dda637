/** The Hono app's typed context: the request's services, caller and verified claims. */

import type { Auth, ServiceContext } from "../context";
import type { DbHandle } from "../db/client";
import type { Env } from "../env";
import type { AccessClaims } from "../modules/auth/tokens";

export type { Auth, AuthUser, ServiceContext } from "../context";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    svc: ServiceContext;
    dbHandle: DbHandle;
    auth: Auth;
    /** Verified token claims, for routes whose user read is batched with their query. */
    claims: AccessClaims;
  };
}
