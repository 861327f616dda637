/**
 * The write paths' figures after the run (bench/writes.ts measures them): their D1 rows per
 * request or item against bench/budgets.json, and their throughput and latency floors in
 * bench/floors.json (written from a path's first measurement, with FLOOR_MARGIN).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH, FLOOR_MARGIN, NOW, round } from "./config.ts";
import type { PathResult } from "./paths.ts";
import type { Rows } from "./rows.ts";
import { ids } from "./seed-base.ts";
import type { Writes } from "./writes.ts";

/** Every D1 rows figure of a write run, named as the report lists them, with the server CPU per operation. */
export function writeRows(w: Writes): { name: string; rows: Rows | null; cpuMs: number | null }[] {
  const path = (name: string, p: { rows: Rows | null; cpuMsPerOp?: number | null }) => ({
    name,
    rows: p.rows,
    cpuMs: p.cpuMsPerOp ?? null,
  });
  const job = (name: string, rows: Rows | null) => ({ name, rows, cpuMs: null });
  return [
    path("checkout webhook (ack)", w.webhook),
    job("checkout webhook → credited (stripe.fulfil job)", w.webhook.jobRows),
    path("refund / dispute webhook (ack)", w.reversals),
    job("refund / dispute → reversed (stripe.charge job)", w.reversals.jobRows),
    path("booking", w.bookings),
    path(`series of ${ids.seriesCount}`, w.series),
    path("reschedule", w.reschedule),
    path("tutor no-show (reported by the student: refund)", w.tutorNoShow),
    path("student no-show (reported by the tutor)", w.studentNoShow),
    path("dispute", w.dispute),
    path("resolve (admin)", w.resolve),
    path("ledger op (admin adjustment)", w.ledgerOps),
    job("webhook fan-out to 10 endpoints (webhooks.dispatch jobs)", w.fanout.dispatchRows),
    job("webhook delivery (webhooks.deliver job)", w.fanout.deliverRows),
    job("payout run (request and payouts.run jobs)", w.payouts.rows),
  ];
}

/** One floor of bench/floors.json: a throughput floor (higher is better) or a latency ceiling. */
interface FloorSpec {
  key: string;
  name: string;
  value: number | null | undefined;
  kind: "min" | "max";
  digits?: number;
  /** Set only when this holds (a broken path sets no floor). */
  valid?: boolean;
}

function floorSpecs(w: Writes): FloorSpec[] {
  const per = (p: PathResult) => (p.failures === 0 ? p.perSec : null);
  return [
    { key: "bookingsPerSecMin", name: "bookings/s", value: w.bookings.perSec, kind: "min" },
    { key: "ledgerOpsPerSecMin", name: "ledger ops/s (one user)", value: w.ledgerOps.perSec, kind: "min" },
    { key: "webhookCreditedP50MsMax", name: "webhook → credited p50 (ms)", value: w.webhook.p50, kind: "max" },
    { key: "webhookCreditedP99MsMax", name: "webhook → credited p99 (ms)", value: w.webhook.p99, kind: "max" },
    {
      key: "seriesPerSecMin",
      name: `series of ${ids.seriesCount}/s`,
      value: w.series.perSec,
      kind: "min",
      digits: 2,
      valid: w.series.ok,
    },
    {
      key: "seriesP95MsMax",
      name: `series of ${ids.seriesCount} p95 (ms)`,
      value: w.series.p95,
      kind: "max",
      valid: w.series.ok,
    },
    { key: "reschedulesPerSecMin", name: "reschedules/s", value: per(w.reschedule), kind: "min" },
    { key: "tutorNoShowsPerSecMin", name: "tutor no-shows/s", value: per(w.tutorNoShow), kind: "min" },
    { key: "studentNoShowsPerSecMin", name: "student no-shows/s", value: per(w.studentNoShow), kind: "min" },
    { key: "disputesPerSecMin", name: "disputes/s", value: per(w.dispute), kind: "min" },
    { key: "resolvesPerSecMin", name: "resolutions/s", value: per(w.resolve), kind: "min" },
    {
      key: "chargeReversedP50MsMax",
      name: "refund/dispute → reversed p50 (ms)",
      value: w.reversals.p50,
      kind: "max",
      valid: w.reversals.failures === 0,
    },
    {
      key: "chargeReversedP99MsMax",
      name: "refund/dispute → reversed p99 (ms)",
      value: w.reversals.p99,
      kind: "max",
      valid: w.reversals.failures === 0,
    },
    {
      key: "fanoutEventsPerSecMin",
      name: "fan-out events delivered/s (10 endpoints)",
      value: w.fanout.eventsPerSec,
      kind: "min",
      valid: w.fanout.ok,
    },
    {
      key: "payoutsPerSecMin",
      name: "payouts created and debited/s",
      value: w.payouts.payoutsPerSec,
      kind: "min",
      valid: w.payouts.ok,
    },
    {
      key: "adminAssetsP50MsMax",
      name: "GET /admin index + JS p50 (ms)",
      value: w.assets.p50,
      kind: "max",
      valid: w.assets.ok,
    },
  ];
}

/** bench/floors.json: the write paths' floors, each set from the first measurement that lacked it. */
export function checkFloors(w: Writes) {
  const file = join(BENCH, "floors.json");
  const stored = (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {}) as Record<string, unknown>;
  const floors: Record<string, unknown> = {
    note: `Set from the first measurement with a ${FLOOR_MARGIN * 100}% margin; keep them (raise them when the code gets faster).`,
    measuredAt: new Date(NOW).toISOString(),
    ...stored,
  };
  const added: string[] = [];
  const checks: { key: string; name: string; value: number; floor: number | null; ok: boolean }[] = [];
  for (const f of floorSpecs(w)) {
    const value = f.value ?? Number.NaN;
    if (typeof floors[f.key] !== "number" && Number.isFinite(value) && f.valid !== false) {
      // A floor added since the file was written (a new write path) is set now; the others are kept.
      floors[f.key] =
        f.kind === "min" ? round(value * (1 - FLOOR_MARGIN), f.digits ?? 1) : Math.ceil(value * (1 + FLOOR_MARGIN * 2));
      added.push(f.key);
    }
    const floor = typeof floors[f.key] === "number" ? (floors[f.key] as number) : null;
    const ok = floor !== null && Number.isFinite(value) && (f.kind === "min" ? value >= floor : value <= floor);
    checks.push({ key: f.key, name: f.name, value, floor, ok });
  }
  const created = added.length > 0;
  if (created) writeFileSync(file, `${JSON.stringify(floors, null, 2)}\n`);
  return { file: "bench/floors.json", created, added, floors, checks };
}
