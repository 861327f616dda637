/**
 * `GET /v1/admin/stats/credits-sold`: credits sold per calendar day of an IANA zone, over the orders
 * completed in `[from, to)` (by `completedAt`), in ONE aggregate on creditPurchaseOrders_by_completedAt.
 * Gross sales: a refund or chargeback later does not lower the day the order was sold on (the
 * reconciliation report has the reversals).
 *
 * Day boundaries follow the zone's DST: the range is split into pieces of constant UTC offset
 * (offsetPieces, the availability code's), and each order's local day is `(completedAt + offset) /
 * day` with the offset of the piece it falls in, so a 23- or 25-hour day is counted as one day.
 */
import type { ServiceContext } from "../../context";
import { offsetPieces } from "../tutors/availability";
import type { CreditsSoldView } from "./schemas";
import { DAY_MS, type RangeQuery, reportRange } from "./time-range";

type DayRow = { day: number; currency: string; orders: number; credits: number; cents: number };

/** The local day number (days since 1970-01-01 on the zone's wall clock) of an instant at `offset`. */
const localDay = (at: number, offset: number) => Math.floor((at + offset) / DAY_MS);
const isoDate = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export async function creditsSold(svc: ServiceContext, q: RangeQuery & { timezone: string }): Promise<CreditsSoldView> {
  const { from, to } = reportRange(svc, q);
  const pieces = offsetPieces(q.timezone, from, to);
  // One CASE arm per offset piece (a 31-day range has at most a few). D1 binds a JS number as a REAL:
  // the CAST keeps the division an integer one. The numerator is shifted by a day (and the result
  // back) so it is never negative: SQLite's integer division truncates toward 0, not down.
  const arms = pieces.map(() => `WHEN completedAt < ? THEN (completedAt + CAST(? AS INTEGER)) / ${DAY_MS}`).join(" ");
  const binds = pieces.flatMap((p) => [p.end, p.offset + DAY_MS]);
  const { results } = await svc.d1
    .prepare(
      `SELECT CASE ${arms} END - 1 AS day, currency, COUNT(*) AS orders, SUM(totalCredits) AS credits, SUM(totalCents) AS cents
FROM creditPurchaseOrders WHERE completedAt >= ? AND completedAt < ? AND status = 'completed'
GROUP BY day, currency`,
    )
    .bind(...binds, from, to)
    .all<DayRow>();

  const first = localDay(from, pieces[0]?.offset ?? 0);
  const last = localDay(to - 1, pieces.at(-1)?.offset ?? 0);
  const days = Array.from({ length: last - first + 1 }, (_, i) => ({
    date: isoDate(first + i),
    orders: 0,
    credits: 0,
  }));
  const amounts = new Map<string, number>();
  for (const r of results) {
    const day = days[r.day - first];
    if (!day) throw new Error(`credits sold: day ${r.day} outside ${first}..${last}`);
    day.orders += r.orders;
    day.credits += r.credits;
    amounts.set(r.currency, (amounts.get(r.currency) ?? 0) + r.cents);
  }
  return {
    timezone: q.timezone,
    from,
    to,
    days,
    totals: {
      orders: days.reduce((a, d) => a + d.orders, 0),
      credits: days.reduce((a, d) => a + d.credits, 0),
      amounts: [...amounts].sort(([a], [b]) => a.localeCompare(b)).map(([currency, cents]) => ({ currency, cents })),
    },
  };
}
