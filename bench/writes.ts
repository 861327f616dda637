/**
 * The write paths on the large server: webhook → credited latency through the payments queue
 * (signed `checkout.session.completed` events), bookings/s across many students, weekly series of
 * 12 (latency per series), and ledger operations/s for one user; and their floors in
 * bench/floors.json. The API's JSON routes are called through the typed SDK (as an integrator
 * would); the Stripe webhook is a raw signed body, so it stays a plain fetch.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../sdk/src/index.ts";
import { signStripePayload, unixSeconds } from "../tools/common/stripe-signature.ts";
import {
  BENCH,
  CONNECTIONS,
  DURATION_S,
  FLOOR_MARGIN,
  log,
  NOW,
  round,
  STRIPE_WEBHOOK_SECRET,
  token,
} from "./config.ts";
import { drive, percentile } from "./load.ts";
import { ids } from "./seed-base.ts";
import type { Server } from "./server.ts";

/** A typed client as one user (a bearer token minted by the bench). */
const sdkAs = (server: Server, bearer: string | undefined) =>
  createClient({ baseUrl: server.url, getToken: () => bearer });

export async function writePaths(server: Server) {
  const HOUR = 3_600_000;
  const base = Math.ceil((NOW + 2 * 86_400_000) / HOUR) * HOUR;
  // First, while the queue is idle: a booking burst leaves e-mail and video-room jobs queued ahead
  // of the fulfilment jobs (one queue), which would measure the backlog instead of the path.
  log(`  webhook → credited, ${ids.webhookOrders} orders, ${CONNECTIONS} in flight`);
  const buyers = (
    await Promise.all(Array.from({ length: ids.webhookOrders }, (_, k) => token(ids.webhookUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const ackLatencies: number[] = [];
  const webhook = await drive({
    concurrency: CONNECTIONS,
    count: ids.webhookOrders,
    op: async (k) => {
      const payload = JSON.stringify({
        id: `evt_bench_${k}_${NOW}`,
        object: "event",
        type: "checkout.session.completed",
        api_version: "2025-10-29.clover",
        created: unixSeconds(),
        livemode: false,
        data: {
          object: {
            id: ids.webhookCheckout(k),
            object: "checkout.session",
            client_reference_id: ids.webhookOrder(k),
            payment_status: "paid",
            status: "complete",
            payment_intent: `pi_bench_${k}`,
            metadata: { orderId: ids.webhookOrder(k), userId: ids.webhookUser(k) },
          },
        },
      });
      const t = performance.now();
      const res = await fetch(`${server.url}/v1/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signStripePayload(payload, STRIPE_WEBHOOK_SECRET),
        },
        body: payload,
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`webhook → ${res.status}`);
      ackLatencies.push(performance.now() - t);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const { data } = (await buyers[k]?.GET("/v1/credits/balance")) ?? {};
        if ((data?.balance ?? 0) >= ids.webhookCredits) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
  });
  const lanes = (
    await Promise.all(Array.from({ length: ids.lanes }, (_, k) => token(ids.laneStudentUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  let sample409 = "";
  const book = async (i: number): Promise<boolean> => {
    const k = i % ids.lanes;
    const slot = Math.floor(i / ids.lanes);
    const lane = lanes[k];
    if (!lane) return false;
    const { response, error } = await lane.POST("/v1/sessions", {
      body: {
        tutorProfileId: ids.laneTutor(k),
        subjectId: ids.laneSubject,
        startTime: base + slot * HOUR,
        durationMinutes: 60,
      },
    });
    if (response.status !== 201 && !sample409) {
      sample409 = `${response.status} ${JSON.stringify(error).slice(0, 300)}`;
    }
    return response.status === 201;
  };
  log("  warm-up bookings");
  await drive({ concurrency: CONNECTIONS, count: ids.lanes, op: book });
  log(`  bookings across ${ids.lanes} students/tutors, ${CONNECTIONS * 2} in flight`);
  let offset = ids.lanes; // the warm-up used slot 0 of every lane
  const bookings = await drive({
    concurrency: CONNECTIONS * 2,
    durationMs: DURATION_S * 1000,
    op: (i) => book(i + offset),
  });
  offset += bookings.requests + bookings.failures;

  const series = await seriesBookings(server, base);

  const admin = sdkAs(server, await token(ids.adminUser, "admin"));
  const adjust = async (): Promise<boolean> => {
    const { response } = await admin.POST("/v1/admin/credits/adjustments", {
      body: { userId: ids.benchUser, type: "credit", amount: 1, description: "bench adjustment" },
    });
    return response.status === 201;
  };
  log("  ledger operations for one user (serialized by its Durable Object)");
  await drive({ concurrency: CONNECTIONS, count: 20, op: adjust });
  const ledgerOps = await drive({ concurrency: CONNECTIONS, durationMs: DURATION_S * 1000, op: adjust });

  const ack = [...ackLatencies].sort((a, b) => a - b);
  const pct = (p: number) =>
    round(ack[Math.min(ack.length - 1, Math.ceil((p / 100) * ack.length) - 1)] ?? Number.NaN, 2);
  return {
    bookings: { ...bookings, perSec: bookings.rps, sampleFailure: sample409 },
    series,
    ledgerOps: { ...ledgerOps, perSec: ledgerOps.rps },
    webhook: { ...webhook, ackP50: pct(50), ackP99: pct(99) },
  };
}

/** Series requests in flight: a few students booking at once, so the latency is mostly the series' own. */
export const SERIES_IN_FLIGHT = 4;
const SERIES_WARMUP = 4;
const WEEK_MS = 7 * 86_400_000;

/**
 * Weekly series of 12 hour-long lessons (`POST /v1/sessions/series`), each by its own seeded student
 * with credits, at distinct hours of the series tutors (all week, UTC, no rules): no two requests
 * want the same tutor hour or the same student, so every one must be booked whole. The first few warm
 * the server up and are not counted. Any answer but 201 with 12 sessions one week apart is a failure.
 */
async function seriesBookings(server: Server, base: number) {
  const HOUR = 3_600_000;
  const students = (
    await Promise.all(Array.from({ length: ids.seriesRuns }, (_, k) => token(ids.seriesStudentUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  const book = async (k: number, record: boolean): Promise<boolean> => {
    const startTime = base + Math.floor(k / ids.seriesTutors) * HOUR;
    const t = performance.now();
    const { response, data, error } = (await students[k]?.POST("/v1/sessions/series", {
      body: {
        tutorProfileId: ids.seriesTutor(k % ids.seriesTutors),
        subjectId: ids.laneSubject,
        startTime,
        durationMinutes: 60,
        count: ids.seriesCount,
      },
    })) ?? { response: new Response(null, { status: 599 }) };
    const elapsed = performance.now() - t;
    const wrong = seriesAnswerWrong(response.status, JSON.stringify(data ?? error ?? null), startTime);
    if (wrong) {
      if (failureSamples.length < 5) failureSamples.push(`series ${k}: ${wrong}`);
      return false;
    }
    if (record) latencies.push(elapsed);
    return true;
  };
  log(
    `  series of ${ids.seriesCount}: ${SERIES_WARMUP} warm-up, then ${ids.seriesRuns - SERIES_WARMUP}, ${SERIES_IN_FLIGHT} in flight`,
  );
  const warm = await drive({ concurrency: SERIES_IN_FLIGHT, count: SERIES_WARMUP, op: (k) => book(k, false) });
  const run = await drive({
    concurrency: SERIES_IN_FLIGHT,
    count: ids.seriesRuns - SERIES_WARMUP,
    op: (i) => book(i + SERIES_WARMUP, true),
  });
  const failures = warm.failures + run.failures;
  if (failures > 0) {
    log(`  ✗✗✗ SERIES FAILED: ${failures} of ${ids.seriesRuns} not 201 with ${ids.seriesCount} sessions ✗✗✗`);
    for (const f of failureSamples) log(`    ${f}`);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    /** Every series requested, the warm-up included; `requests` are the measured ones. */
    attempted: ids.seriesRuns,
    requests: ids.seriesRuns - SERIES_WARMUP,
    booked: sorted.length,
    occurrences: ids.seriesCount,
    inFlight: SERIES_IN_FLIGHT,
    failures,
    failureSamples,
    perSec: run.rps,
    sessionsPerSec: round(run.rps * ids.seriesCount, 1),
    p50: round(percentile(sorted, 50), 2),
    p95: round(percentile(sorted, 95), 2),
    max: round(sorted.at(-1) ?? Number.NaN, 2),
    ok: failures === 0,
  };
}

/** Why a series answer is not "201, 12 sessions one week apart from `startTime`" (null: it is). */
function seriesAnswerWrong(status: number, text: string, startTime: number): string | null {
  if (status !== 201) return `${status} ${text.slice(0, 300)}`;
  const body = JSON.parse(text) as {
    seriesId?: string;
    sessions?: { id: string; startTime: number; seriesId?: string }[];
  };
  const sessions = body.sessions ?? [];
  if (!body.seriesId || sessions.length !== ids.seriesCount) {
    return `201 with ${sessions.length} sessions (series ${body.seriesId ?? "?"}): ${text.slice(0, 200)}`;
  }
  const times = sessions.map((x) => x.startTime).sort((a, b) => a - b);
  if (times.some((t, w) => t !== startTime + w * WEEK_MS))
    return `201, occurrences not weekly from ${startTime}: ${times.join(", ")}`;
  if (sessions.some((x) => x.seriesId !== body.seriesId)) return "201, an occurrence without the series id";
  return null;
}

/** bench/floors.json: the write paths' floors, each set from the first measurement that lacked it. */
interface Floors {
  note: string;
  measuredAt: string;
  bookingsPerSecMin: number;
  ledgerOpsPerSecMin: number;
  webhookCreditedP50MsMax: number;
  webhookCreditedP99MsMax: number;
  seriesPerSecMin: number;
  seriesP95MsMax: number;
}

export function checkFloors(w: Awaited<ReturnType<typeof writePaths>>) {
  const file = join(BENCH, "floors.json");
  const measured: Floors = {
    note: `Set from the first measurement with a ${FLOOR_MARGIN * 100}% margin; keep them (raise them when the code gets faster).`,
    measuredAt: new Date(NOW).toISOString(),
    bookingsPerSecMin: round(w.bookings.perSec * (1 - FLOOR_MARGIN), 1),
    ledgerOpsPerSecMin: round(w.ledgerOps.perSec * (1 - FLOOR_MARGIN), 1),
    webhookCreditedP50MsMax: Math.ceil(w.webhook.p50 * (1 + FLOOR_MARGIN * 2)),
    webhookCreditedP99MsMax: Math.ceil(w.webhook.p99 * (1 + FLOOR_MARGIN * 2)),
    seriesPerSecMin: round(w.series.perSec * (1 - FLOOR_MARGIN), 2),
    seriesP95MsMax: Math.ceil(w.series.p95 * (1 + FLOOR_MARGIN * 2)),
  };
  const stored: Partial<Floors> = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<Floors>) : {};
  // A floor added since the file was written (a new write path) is set now; the others are kept.
  const added = (Object.keys(measured) as (keyof Floors)[]).filter(
    (k) =>
      k !== "note" &&
      k !== "measuredAt" &&
      stored[k] === undefined &&
      Number.isFinite(measured[k]) &&
      (w.series.ok || !k.startsWith("series")),
  );
  const floors: Floors = { ...measured, ...stored };
  const created = added.length > 0;
  if (created) writeFileSync(file, `${JSON.stringify(floors, null, 2)}\n`);
  const checks = [
    {
      name: "bookings/s",
      value: w.bookings.perSec,
      floor: floors.bookingsPerSecMin,
      ok: w.bookings.perSec >= floors.bookingsPerSecMin,
    },
    {
      name: "ledger ops/s (one user)",
      value: w.ledgerOps.perSec,
      floor: floors.ledgerOpsPerSecMin,
      ok: w.ledgerOps.perSec >= floors.ledgerOpsPerSecMin,
    },
    {
      name: "webhook → credited p50 (ms)",
      value: w.webhook.p50,
      floor: floors.webhookCreditedP50MsMax,
      ok: w.webhook.p50 <= floors.webhookCreditedP50MsMax,
    },
    {
      name: "webhook → credited p99 (ms)",
      value: w.webhook.p99,
      floor: floors.webhookCreditedP99MsMax,
      ok: w.webhook.p99 <= floors.webhookCreditedP99MsMax,
    },
    {
      name: `series of ${ids.seriesCount}/s`,
      value: w.series.perSec,
      floor: floors.seriesPerSecMin,
      ok: w.series.perSec >= floors.seriesPerSecMin,
    },
    {
      name: `series of ${ids.seriesCount} p95 (ms)`,
      value: w.series.p95,
      floor: floors.seriesP95MsMax,
      ok: w.series.p95 <= floors.seriesP95MsMax,
    },
  ];
  return { file: "bench/floors.json", created, added, floors, checks };
}
