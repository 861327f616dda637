/**
 * What every write path of the bench shares: a path runs a few operations one at a time first (their
 * row headers are its D1 rows per request; they warm the server up and are not timed), then, on the
 * timed server, the rest under load. On the other server (`timed: false`) only the probes run: the
 * rows at that scale. Also: a signed Stripe webhook, and polling until something shows.
 */
import { signStripePayload, unixSeconds } from "../tools/common/stripe-signature.ts";
import { round, STRIPE_WEBHOOK_SECRET } from "./config.ts";
import { type DriveResult, drive } from "./load.ts";
import { checkRows, type RowSample, type Rows, rowsOf } from "./rows.ts";
import type { Scale } from "./seed-base.ts";
import type { Server } from "./server.ts";

/** How the write paths run on a server: under load (the large one) or probes only (the small one). */
export interface WriteMode {
  timed: boolean;
  scale: Scale;
}

/** One operation's outcome: success, its response (for the row headers), why it failed. */
export interface OpOutcome {
  ok: boolean;
  res?: { headers: Headers };
  why?: string;
}

export interface PathResult {
  /** Operations answered as expected per second under load (null: probes only). */
  perSec: number | null;
  /** Timed operations that succeeded, and their latency (ms). */
  requests: number;
  p50: number | null;
  p99: number | null;
  failures: number;
  failureSamples: string[];
  probes: number;
  /** Server CPU ms per timed operation (bench/server.ts: every process of `wrangler dev`, from /proc). */
  cpuMsPerOp: number | null;
  rows: Rows | null;
}

export async function runPath(p: {
  server: Server;
  /** Operations in all, probes included. */
  count: number;
  probes: number;
  mode: WriteMode;
  concurrency: number;
  durationMs?: number;
  budgetKey: string;
  op: (i: number) => Promise<OpOutcome>;
}): Promise<PathResult> {
  const samples: RowSample[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  const failed = (why: string | undefined) => {
    failures++;
    if (failureSamples.length < 5) failureSamples.push(why ?? "failed");
  };
  const probes = Math.min(p.probes, p.count);
  for (let i = 0; i < probes; i++) {
    const r = await p.op(i);
    if (!r.ok) failed(r.why);
    const rows = r.ok && r.res ? rowsOf(r.res) : null;
    if (rows) samples.push(rows);
  }
  let timed: DriveResult | null = null;
  let cpuMsPerOp: number | null = null;
  if (p.mode.timed && p.count > probes) {
    const cpu0 = p.server.cpuMs();
    timed = await drive({
      concurrency: p.concurrency,
      count: p.count - probes,
      durationMs: p.durationMs,
      op: async (j) => {
        const r = await p.op(probes + j);
        if (!r.ok && failureSamples.length < 5) failureSamples.push(r.why ?? "failed");
        return r.ok;
      },
    });
    // drive counts the failed and the thrown operations
    failures += timed.failures;
    const cpu1 = p.server.cpuMs();
    const ops = timed.requests + timed.failures;
    if (cpu0 !== null && cpu1 !== null && cpu1 >= cpu0 && ops > 0) cpuMsPerOp = round((cpu1 - cpu0) / ops, 2);
  }
  return {
    perSec: timed ? timed.rps : null,
    requests: timed?.requests ?? 0,
    p50: timed ? timed.p50 : null,
    p99: timed ? timed.p99 : null,
    failures,
    failureSamples: [...failureSamples, ...(timed?.failureSamples ?? [])].slice(0, 5),
    probes,
    cpuMsPerOp,
    rows: checkRows(p.budgetKey, samples),
  };
}

/** A signed Stripe event to POST /v1/webhooks/stripe; resolves with the answer (body read). */
export async function postStripeEvent(
  server: Server,
  id: string,
  type: string,
  object: Record<string, unknown>,
): Promise<Response> {
  const payload = JSON.stringify({
    id,
    object: "event",
    type,
    api_version: "2025-10-29.clover",
    created: unixSeconds(),
    livemode: false,
    data: { object },
  });
  const res = await fetch(`${server.url}/v1/webhooks/stripe`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "stripe-signature": signStripePayload(payload, STRIPE_WEBHOOK_SECRET),
    },
    body: payload,
  });
  await res.arrayBuffer();
  return res;
}

/** Polls `check` every `everyMs` until it holds (true) or `timeoutMs` passes (false). */
export async function until(check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
