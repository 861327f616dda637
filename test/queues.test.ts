import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { enqueue, enqueueMany } from "../src/queues/enqueue";
import type { QueueMessage } from "../src/queues/messages";
import { queueBarrier } from "./credits/helpers";

function recordingQueue() {
  const sent: unknown[] = [];
  return {
    sent,
    queue: {
      send: async (body: unknown) => void sent.push(body),
      sendBatch: async (batch: { body: unknown }[]) => void sent.push(...batch.map((b) => b.body)),
    } as unknown as Queue<QueueMessage>,
  };
}

describe("queue routing", () => {
  it("sends payments to their own queue and everything else to the jobs queue, validated", async () => {
    const jobs = recordingQueue();
    const payments = recordingQueue();
    const routed = { JOBS: jobs.queue, PAYMENTS: payments.queue } as unknown as Env;
    const fulfil: QueueMessage = { type: "stripe.fulfil", orderId: "o", eventId: "e", outcome: "paid" };
    const room: QueueMessage = { type: "video.create_room", sessionId: "s" };
    await enqueue({ env: routed }, fulfil);
    await enqueueMany({ env: routed }, [room, fulfil]);
    expect(payments.sent).toEqual([fulfil, fulfil]);
    expect(jobs.sent).toEqual([room]);
    await expect(enqueue({ env: routed }, { type: "video.create_room" } as unknown as QueueMessage)).rejects.toThrow();
  });
});

// The webhook tests wait for "nothing more happens" with queueBarrier instead of sleeping; this checks
// the barrier's promise itself: when it returns, every message sent to that queue before it has run.
describe("queueBarrier", () => {
  it.each(["PAYMENTS", "JOBS"] as const)("on %s returns only after every earlier message has run", async (queue) => {
    const ids = Array.from({ length: 6 }, () => `evt_before_${crypto.randomUUID().replaceAll("-", "")}`);
    await env.DB.batch(
      ids.map((id) =>
        env.DB.prepare("INSERT INTO stripeEvents (id, type, receivedAt) VALUES (?, 'test.before', ?)").bind(
          id,
          Date.now(),
        ),
      ),
    );
    // No-op jobs (unknown orders) that only set their processed marker.
    await env[queue].sendBatch(
      ids.map((eventId) => ({
        body: { type: "stripe.fulfil", orderId: `ord_missing_${eventId}`, eventId, outcome: "expired" },
      })),
    );
    // The broker holds a part-filled batch for max_batch_timeout (1 s): right now none has run.
    expect(await processedCount(ids)).toBe(0);
    await queueBarrier(queue);
    expect(await processedCount(ids)).toBe(ids.length);
  });
});

async function processedCount(ids: string[]) {
  const row = await env.DB.prepare(
    `SELECT COUNT(*) AS n FROM stripeEvents WHERE processedAt IS NOT NULL AND id IN (${ids.map(() => "?").join(", ")})`,
  )
    .bind(...ids)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
