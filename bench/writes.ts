/**
 * The write paths on the large server: webhook → credited latency through the payments queue
 * (signed `checkout.session.completed` events), bookings/s across many students, and ledger
 * operations/s for one user; and their floors in bench/floors.json.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
import { drive } from "./load.ts";
import { ids } from "./seed.ts";
import type { Server } from "./server.ts";

export async function writePaths(server: Server) {
  const HOUR = 3_600_000;
  const base = Math.ceil((NOW + 2 * 86_400_000) / HOUR) * HOUR;
  // First, while the queue is idle: a booking burst leaves e-mail and video-room jobs queued ahead
  // of the fulfilment jobs (one queue), which would measure the backlog instead of the path.
  log(`  webhook → credited, ${ids.webhookOrders} orders, ${CONNECTIONS} in flight`);
  const buyerTokens = await Promise.all(
    Array.from({ length: ids.webhookOrders }, (_, k) => token(ids.webhookUser(k), "student")),
  );
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
        const b = await fetch(`${server.url}/v1/credits/balance`, {
          headers: { authorization: `Bearer ${buyerTokens[k]}` },
        });
        const { balance } = (await b.json()) as { balance: number };
        if (balance >= ids.webhookCredits) return true;
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    },
  });
  const laneTokens = await Promise.all(
    Array.from({ length: ids.lanes }, (_, k) => token(ids.laneStudentUser(k), "student")),
  );
  let sample409 = "";
  const book = async (i: number): Promise<boolean> => {
    const k = i % ids.lanes;
    const slot = Math.floor(i / ids.lanes);
    const res = await fetch(`${server.url}/v1/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${laneTokens[k]}`, "content-type": "application/json" },
      body: JSON.stringify({
        tutorProfileId: ids.laneTutor(k),
        subjectId: ids.laneSubject,
        startTime: base + slot * HOUR,
        durationMinutes: 60,
      }),
    });
    const text = await res.text();
    if (res.status !== 201 && !sample409) sample409 = `${res.status} ${text.slice(0, 300)}`;
    return res.status === 201;
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

  const admin = await token(ids.adminUser, "admin");
  const adjust = async (): Promise<boolean> => {
    const res = await fetch(`${server.url}/v1/admin/credits/adjustments`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ userId: ids.benchUser, type: "credit", amount: 1, description: "bench adjustment" }),
    });
    await res.arrayBuffer();
    return res.status === 201;
  };
  log("  ledger operations for one user (serialized by its Durable Object)");
  await drive({ concurrency: CONNECTIONS, count: 20, op: adjust });
  const ledgerOps = await drive({ concurrency: CONNECTIONS, durationMs: DURATION_S * 1000, op: adjust });

  const ack = [...ackLatencies].sort((a, b) => a - b);
  const pct = (p: number) =>
    round(ack[Math.min(ack.length - 1, Math.ceil((p / 100) * ack.length) - 1)] ?? Number.NaN, 2);
  return {
    bookings: { ...bookings, perSec: bookings.rps, sampleFailure: sample409 },
    ledgerOps: { ...ledgerOps, perSec: ledgerOps.rps },
    webhook: { ...webhook, ackP50: pct(50), ackP99: pct(99) },
  };
}

/** bench/floors.json: the write paths' floors, set from the first measurement when missing. */
interface Floors {
  note: string;
  measuredAt: string;
  bookingsPerSecMin: number;
  ledgerOpsPerSecMin: number;
  webhookCreditedP50MsMax: number;
  webhookCreditedP99MsMax: number;
}

export function checkFloors(w: Awaited<ReturnType<typeof writePaths>>) {
  const file = join(BENCH, "floors.json");
  let floors: Floors;
  let created = false;
  if (existsSync(file)) {
    floors = JSON.parse(readFileSync(file, "utf8")) as Floors;
  } else {
    floors = {
      note: `Set from the first measurement with a ${FLOOR_MARGIN * 100}% margin; keep them (raise them when the code gets faster).`,
      measuredAt: new Date(NOW).toISOString(),
      bookingsPerSecMin: round(w.bookings.perSec * (1 - FLOOR_MARGIN), 1),
      ledgerOpsPerSecMin: round(w.ledgerOps.perSec * (1 - FLOOR_MARGIN), 1),
      webhookCreditedP50MsMax: Math.ceil(w.webhook.p50 * (1 + FLOOR_MARGIN * 2)),
      webhookCreditedP99MsMax: Math.ceil(w.webhook.p99 * (1 + FLOOR_MARGIN * 2)),
    };
    writeFileSync(file, `${JSON.stringify(floors, null, 2)}\n`);
    created = true;
  }
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
  ];
  return { file: "bench/floors.json", created, floors, checks };
}
