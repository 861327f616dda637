/** The back office's session list: one keyset page on the index that fits the filters. */
import { and, eq, sql } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { toStatement } from "../../db/client";
import { sessions } from "../../db/schema";
import type { AdminListQuery } from "./schemas";
import { sessionsPageQuery } from "./service";

/**
 * By settlement status and time on `sessions_by_settlement_and_time` (the `disputed` queue is small
 * whatever the status); a status given too is a residual filter, written `+status` so the planner
 * stays on that index. Else by status on `sessions_by_status_and_time`, else on `sessions_by_time`.
 */
export function adminSessionsStatement(svc: ServiceContext, q: AdminListQuery) {
  const byStatus = q.status;
  const scope = q.settlementStatus
    ? and(
        eq(sessions.settlementStatus, q.settlementStatus),
        byStatus ? sql`+${sessions.status} = ${byStatus}` : undefined,
      )
    : byStatus
      ? eq(sessions.status, byStatus)
      : undefined;
  return toStatement(svc.d1, sessionsPageQuery(svc, scope, { ...q, status: undefined }));
}
