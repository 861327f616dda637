/**
 * The `[from, to)` range of the admin's money reports (reconciliation, credits sold): by default the
 * last 30 days ending now (the server clock; `to` is just past now so that now is included); a range
 * that is empty, reversed or longer than 31 days is 400. One rule, so the two reports always agree.
 */
import type { ServiceContext } from "../../context";
import { badRequest } from "../../lib/errors";

export const DAY_MS = 24 * 60 * 60 * 1000;
/** The longest range one request reports on: bounds the rows it reads (ask month by month). */
export const REPORT_MAX_RANGE_MS = 31 * DAY_MS;
const DEFAULT_RANGE_MS = 30 * DAY_MS;

export type RangeQuery = { from?: number; to?: number };

export function reportRange(svc: ServiceContext, q: RangeQuery): { from: number; to: number } {
  const to = q.to ?? svc.clock.now() + 1;
  const from = q.from ?? to - DEFAULT_RANGE_MS;
  if (to <= from || to - from > REPORT_MAX_RANGE_MS) {
    throw badRequest("The range must be non-empty and at most 31 days long", [
      { path: "from", message: "from < to and to − from ≤ 31 days" },
    ]);
  }
  return { from, to };
}
