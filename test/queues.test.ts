import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { enqueue, enqueueMany } from "../src/queues/enqueue";
import type { QueueMessage } from "../src/queues/messages";

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
    const env = { JOBS: jobs.queue, PAYMENTS: payments.queue } as unknown as Env;
    const fulfil: QueueMessage = { type: "stripe.fulfil", orderId: "o", eventId: "e", outcome: "paid" };
    const room: QueueMessage = { type: "video.create_room", sessionId: "s" };
    await enqueue({ env }, fulfil);
    await enqueueMany({ env }, [room, fulfil]);
    expect(payments.sent).toEqual([fulfil, fulfil]);
    expect(jobs.sent).toEqual([room]);
    await expect(enqueue({ env }, { type: "video.create_room" } as unknown as QueueMessage)).rejects.toThrow();
  });
});
