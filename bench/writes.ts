import { adminAssets } from "./assets.ts";
import { CONNECTIONS, DURATION_S, log, NOW, round, token } from "./config.ts";
import { fanOut } from "./fanout.ts";
import { type BookedSession, lifecyclePaths } from "./lifecycle.ts";
import { drive, percentile } from "./load.ts";
import { postStripeEvent, runPath, until, type WriteMode } from "./paths.ts";
import { chargeReversals, payoutRun } from "./payments.ts";
import { checkRows, jobRows, logMark, logSettled, type RowSample, rowsOf } from "./rows.ts";
import { ids } from "./seed-base.ts";
import { type Server, sdkAs } from "./server.ts";

const HOUR = 3_600_000;
/** Of the credited orders, this many are refunded (half) or disputed (half) under load. */
const REVERSED_ORDERS = 60;

const cpuPer = (cpu0: number | null, cpu1: number | null, ops: number) =>
  cpu0 === null || cpu1 === null || cpu1 < cpu0 || ops === 0 ? null : round((cpu1 - cpu0) / ops, 2);

export async function writePaths(server: Server, mode: WriteMode) {
  const base = Math.ceil((NOW + 2 * 86_400_000) / HOUR) * HOUR;
  const assets = await adminAssets(server, mode);
  // First, while the queue is idle: a booking burst leaves e-mail and video-room jobs queued ahead
  // of the fulfilment jobs (one queue), which would measure the backlog instead of the path.
  const orders = mode.timed ? ids.webhookOrders : 4;
  const webhook = await checkoutWebhooks(server, orders, mode);
  const reversals = await chargeReversals(server, mode.timed ? REVERSED_ORDERS : orders, mode);
  // Before any other booking: the endpoints listen to `session.booked`, and no such event may still
  // wait in the outbox from an earlier path (it would be delivered too).
  const fanout = await fanOut(server, base, mode);
  // the jobs of the paths above (e-mails, deliveries, reversals) drain before bookings are timed:
  // measured side by side with them, bookings/s fell from ≈ 32 to ≈ 23 on the same code
  if (mode.timed) await logSettled(server.log, 1_000, 30_000);

  const { bookings, booked } = await bookingPath(server, base, mode);
  const series = await seriesBookings(server, base, mode);
  const lifecycle = await lifecyclePaths(server, base, booked, mode);

  const admin = sdkAs(server, await token(ids.adminUser, "admin"));
  log(`  ledger operations for one user (serialized by its Durable Object)${mode.timed ? "" : ", probes"}`);
  const ledgerOps = await runPath({
    server,
    count: mode.timed ? 1_000_000 : 3,
    probes: 3,
    mode,
    concurrency: CONNECTIONS,
    durationMs: DURATION_S * 1000,
    budgetKey: "POST /v1/admin/credits/adjustments",
    op: async () => {
      const { response, error } = await admin.POST("/v1/admin/credits/adjustments", {
        body: { userId: ids.benchUser, type: "credit", amount: 1, description: "bench adjustment" },
      });
      return { ok: response.status === 201, res: response, why: `${response.status} ${JSON.stringify(error)}` };
    },
  });

  // last: its transfers (to no Stripe) keep failing on the payments queue until the server stops;
  // first the e-mail and video-room jobs of the bookings above drain, so the run's slices (jobs
  // queue) do not wait behind them
  await logSettled(server.log, 1_000, 30_000);
  const payouts = await payoutRun(server, mode);
  return { timed: mode.timed, assets, webhook, reversals, bookings, series, ...lifecycle, ledgerOps, fanout, payouts };
}

export type Writes = Awaited<ReturnType<typeof writePaths>>;

/** Signed `checkout.session.completed` events for the seeded pending orders, each polled until credited. */
async function checkoutWebhooks(server: Server, orders: number, mode: WriteMode) {
  log(`  webhook → credited, ${orders} orders, ${mode.timed ? CONNECTIONS : 1} in flight`);
  const buyers = (
    await Promise.all(Array.from({ length: orders }, (_, k) => token(ids.webhookUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const ackLatencies: number[] = [];
  const ackRows: RowSample[] = [];
  const mark = logMark(server.log);
  const webhook = await drive({
    concurrency: mode.timed ? CONNECTIONS : 1,
    count: orders,
    op: async (k) => {
      const t = performance.now();
      const res = await postStripeEvent(server, `evt_bench_${k}_${NOW}`, "checkout.session.completed", {
        id: ids.webhookCheckout(k),
        object: "checkout.session",
        client_reference_id: ids.webhookOrder(k),
        payment_status: "paid",
        status: "complete",
        payment_intent: `pi_bench_${k}`,
        metadata: { orderId: ids.webhookOrder(k), userId: ids.webhookUser(k) },
      });
      if (!res.ok) throw new Error(`webhook → ${res.status}`);
      ackLatencies.push(performance.now() - t);
      const rows = rowsOf(res);
      if (rows) ackRows.push(rows);
      return until(async () => {
        const { data } = (await buyers[k]?.GET("/v1/credits/balance")) ?? {};
        return (data?.balance ?? 0) >= ids.webhookCredits;
      });
    },
  });
  const ack = [...ackLatencies].sort((a, b) => a - b);
  return {
    ...webhook,
    ackP50: round(percentile(ack, 50), 2),
    ackP99: round(percentile(ack, 99), 2),
    rows: checkRows("POST /v1/webhooks/stripe", ackRows),
    jobRows: await jobRows(server, mark, ["stripe.fulfil"], "stripe.fulfil job", "order"),
  };
}

/**
 * Bookings across the lanes (one student and one tutor each, all week, no rules). Timed: a warm-up
 * of one booking per lane (its row headers are the probes), then bookings for DURATION_S. Probes
 * only: a few lanes once. Every booked session is handed on (reschedules).
 */
async function bookingPath(server: Server, base: number, mode: WriteMode) {
  const lanes = (
    await Promise.all(Array.from({ length: ids.lanes }, (_, k) => token(ids.laneStudentUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  let sample409 = "";
  const booked: BookedSession[] = [];
  const warmRows: RowSample[] = [];
  const book = async (i: number, rows?: RowSample[]): Promise<boolean> => {
    const k = i % ids.lanes;
    const slot = Math.floor(i / ids.lanes);
    const lane = lanes[k];
    if (!lane) return false;
    const { response, data, error } = await lane.POST("/v1/sessions", {
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
    if (response.status !== 201 || !data) return false;
    booked.push({ id: data.id, lane: k, slot });
    const r = rows ? rowsOf(response) : null;
    if (r) rows?.push(r);
    return true;
  };
  const warm = mode.timed ? ids.lanes : 5;
  log(`  ${mode.timed ? "warm-up " : ""}bookings (${warm}, rows per request)`);
  await drive({ concurrency: mode.timed ? CONNECTIONS : 1, count: warm, op: (i) => book(i, warmRows) });
  let timed: Awaited<ReturnType<typeof drive>> | null = null;
  let cpuMsPerOp: number | null = null;
  if (mode.timed) {
    log(`  bookings across ${ids.lanes} students/tutors, ${CONNECTIONS * 2} in flight`);
    const offset = ids.lanes; // the warm-up used slot 0 of every lane
    const cpu0 = server.cpuMs();
    timed = await drive({ concurrency: CONNECTIONS * 2, durationMs: DURATION_S * 1000, op: (i) => book(i + offset) });
    cpuMsPerOp = cpuPer(cpu0, server.cpuMs(), timed.requests + timed.failures);
  }
  return {
    bookings: {
      perSec: timed?.rps ?? null,
      requests: timed?.requests ?? 0,
      p50: timed?.p50 ?? null,
      p99: timed?.p99 ?? null,
      failures: timed?.failures ?? 0,
      sampleFailure: sample409,
      probes: warm,
      cpuMsPerOp,
      rows: checkRows("POST /v1/sessions", warmRows),
    },
    booked,
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
 * the server up and are not counted (their row headers are the probes). Any answer but 201 with 12
 * sessions one week apart is a failure. Probes only: one series.
 */
async function seriesBookings(server: Server, base: number, mode: WriteMode) {
  const runs = mode.timed ? ids.seriesRuns : 1;
  const warmup = Math.min(SERIES_WARMUP, runs);
  const students = (
    await Promise.all(Array.from({ length: runs }, (_, k) => token(ids.seriesStudentUser(k), "student")))
  ).map((t) => sdkAs(server, t));
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  const rows: RowSample[] = [];
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
    else {
      const r = rowsOf(response);
      if (r) rows.push(r);
    }
    return true;
  };
  log(`  series of ${ids.seriesCount}: ${warmup} warm-up, then ${runs - warmup}, ${SERIES_IN_FLIGHT} in flight`);
  const warm = await drive({ concurrency: SERIES_IN_FLIGHT, count: warmup, op: (k) => book(k, false) });
  const cpu0 = server.cpuMs();
  const run = await drive({
    concurrency: SERIES_IN_FLIGHT,
    count: runs - warmup,
    op: (i) => book(i + warmup, true),
  });
  const cpuMsPerOp = runs > warmup ? cpuPer(cpu0, server.cpuMs(), run.requests + run.failures) : null;
  const failures = warm.failures + run.failures;
  if (failures > 0) {
    log(`  ✗✗✗ SERIES FAILED: ${failures} of ${runs} not 201 with ${ids.seriesCount} sessions ✗✗✗`);
    for (const f of failureSamples) log(`    ${f}`);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    /** Every series requested, the warm-up included; `requests` are the measured ones. */
    attempted: runs,
    requests: runs - warmup,
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
    cpuMsPerOp,
    rows: checkRows("POST /v1/sessions/series", rows),
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
