/**
 * The outgoing webhooks' fan-out: a small local receiver (200 to everything, http://127.0.0.1 is
 * allowed outside production), 10 endpoints registered with `POST /v1/admin/webhook-endpoints` for
 * `session.booked`, then N bookings; measured until the receiver has every booking's event from all
 * 10 endpoints: events delivered per second (from the first booking on), the time from a booking's
 * answer to its last delivery, and the rows per event of the fan-out (`webhooks.dispatch` jobs: the
 * deliveries written, the event rendered) and per delivery (`webhooks.deliver` jobs). The endpoints
 * are deleted afterwards, so nothing later fans out.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { log, round, token } from "./config.ts";
import { drive, percentile } from "./load.ts";
import { until, type WriteMode } from "./paths.ts";
import { jobRows, jobsSince, logMark, logSettled } from "./rows.ts";
import { ids } from "./seed-base.ts";
import { type Server, sdkAs } from "./server.ts";

export const FANOUT_ENDPOINTS = 10;
/**
 * Bookings (events) of the timed fan-out, made one after another. Not in parallel: the nudges of a
 * burst land in one consumer batch, whose dispatch jobs run side by side; every loser of that race
 * re-reads the events and enqueues the winner's deliveries again, so a burst of 50 at 10 in flight
 * queued more than 1,000 delivery messages and took minutes to drain (reported, not hidden: the
 * duplicate and losing jobs are counted below).
 */
const FANOUT_EVENTS = 20;
const FANOUT_TIMEOUT_MS = 30_000;
const HOUR = 3_600_000;
/** The fan-out's bookings take these hours of each lane (the bookings path took the first ones). */
const FANOUT_SLOT = 300;

/** Deliveries by event (the booked session's id), each endpoint's attempts counted once. */
async function receiver() {
  const seen = new Set<string>();
  const byEvent = new Map<string, { endpoints: number; lastAt: number }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      const key = `${req.url} ${req.headers["webhook-id"]}`;
      if (seen.has(key)) return;
      seen.add(key);
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data?: { id?: string } };
        const id = body.data?.id;
        if (!id) return;
        const e = byEvent.get(id) ?? { endpoints: 0, lastAt: 0 };
        e.endpoints++;
        e.lastAt = performance.now();
        byEvent.set(id, e);
      } catch {
        // not an event
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    byEvent,
    close: () => server.close(),
  };
}

export async function fanOut(server: Server, base: number, mode: WriteMode) {
  const events = mode.timed ? FANOUT_EVENTS : 3;
  const hooks = await receiver();
  const admin = sdkAs(server, await token(ids.adminUser, "admin"));
  try {
    // what earlier paths announced (credits events) is dispatched, to nobody, before the endpoints exist
    await logSettled(server.log, 1_000, 10_000);
    const endpoints: string[] = [];
    for (let i = 0; i < FANOUT_ENDPOINTS; i++) {
      const { data, error } = await admin.POST("/v1/admin/webhook-endpoints", {
        body: { url: `${hooks.url}/endpoint/${i}`, events: ["session.booked"], description: "bench receiver" },
      });
      if (!data) throw new Error(`POST /v1/admin/webhook-endpoints → ${JSON.stringify(error).slice(0, 300)}`);
      endpoints.push(data.id);
    }
    log(`  webhook fan-out: ${events} bookings → ${FANOUT_ENDPOINTS} endpoints on ${hooks.url}`);
    const students = (
      await Promise.all(Array.from({ length: ids.lanes }, (_, k) => token(ids.laneStudentUser(k), "student")))
    ).map((t) => sdkAs(server, t));
    const bookedAt = new Map<string, number>();
    const mark = logMark(server.log);
    const started = performance.now();
    const bookings = await drive({
      concurrency: 1,
      count: events,
      op: async (i) => {
        const k = i % ids.lanes;
        const { data } =
          (await students[k]?.POST("/v1/sessions", {
            body: {
              tutorProfileId: ids.laneTutor(k),
              subjectId: ids.laneSubject,
              startTime: base + (FANOUT_SLOT + Math.floor(i / ids.lanes)) * HOUR,
              durationMinutes: 60,
            },
          })) ?? {};
        if (data) bookedAt.set(data.id, performance.now());
        return data !== undefined;
      },
    });
    const complete = () =>
      [...bookedAt.keys()].every((id) => (hooks.byEvent.get(id)?.endpoints ?? 0) >= FANOUT_ENDPOINTS);
    const delivered = await until(async () => complete(), FANOUT_TIMEOUT_MS, 20);
    const lastAt = Math.max(...[...bookedAt.keys()].map((id) => hooks.byEvent.get(id)?.lastAt ?? Number.NaN));
    const elapsedMs = lastAt - started;
    const lag = [...bookedAt.entries()]
      .map(([id, at]) => (hooks.byEvent.get(id)?.lastAt ?? Number.NaN) - at)
      .sort((a, b) => a - b);
    for (const id of endpoints) {
      await admin.DELETE("/v1/admin/webhook-endpoints/{id}", { params: { path: { id } } });
    }
    const ok = delivered && bookings.failures === 0 && bookedAt.size === events;
    const received = [...bookedAt.keys()].reduce((n, id) => n + (hooks.byEvent.get(id)?.endpoints ?? 0), 0);
    await logSettled(server.log, 500, 10_000);
    const jobs = jobsSince(server.log, mark, ["webhooks.dispatch", "webhooks.deliver"]);
    const dispatches = jobs.filter((j) => j.type === "webhooks.dispatch");
    const deliveries = jobs.filter((j) => j.type === "webhooks.deliver");
    return {
      endpoints: FANOUT_ENDPOINTS,
      events,
      booked: bookedAt.size,
      /** Deliveries of the booked events the receiver got (once per endpoint and event), of events × endpoints. */
      received,
      ok,
      /** Dispatch jobs in the window, and those that wrote nothing (they lost the race for the same events). */
      dispatchJobs: dispatches.length,
      dispatchJobsWritingNothing: dispatches.filter((j) => j.written === 0).length,
      /** Delivery jobs, and those whose claim found nothing to send (a duplicate message). */
      deliverJobs: deliveries.length,
      deliverJobsClaimingNothing: deliveries.filter((j) => j.written === 0).length,
      elapsedMs: Math.round(elapsedMs),
      eventsPerSec: ok ? round(events / (elapsedMs / 1000), 1) : null,
      deliveriesPerSec: ok ? round((events * FANOUT_ENDPOINTS) / (elapsedMs / 1000), 1) : null,
      /** A booking's answer → its last endpoint's delivery. */
      lagP50: round(percentile(lag, 50), 1),
      lagP99: round(percentile(lag, 99), 1),
      dispatchRows: await jobRows(
        server,
        mark,
        ["webhooks.dispatch"],
        "webhook fan-out, per event to 10 endpoints",
        "event",
        events,
      ),
      deliverRows: await jobRows(server, mark, ["webhooks.deliver"], "webhook delivery", "delivery"),
    };
  } finally {
    hooks.close();
  }
}
