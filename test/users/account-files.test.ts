/**
 * A closed account's R2 files: deleted after the commit, and when R2 fails, by the retried
 * `account.erase_files` job instead — never left behind silently.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import { jobContext } from "../../src/jobs/context";
import { closeAccount } from "../../src/modules/users/close-account";
import { dispatch } from "../../src/queues/consumer";
import type { QueueMessage } from "../../src/queues/messages";
import { env } from "../helpers/api";
import { accountWorld } from "./helpers";

function recordingQueue(fail = false) {
  const sent: QueueMessage[] = [];
  const queue = {
    send: async (body: QueueMessage) => {
      if (fail) throw new Error("queue unavailable");
      sent.push(body);
    },
    sendBatch: async (batch: { body: QueueMessage }[]) => {
      if (fail) throw new Error("queue unavailable");
      sent.push(...batch.map((b) => b.body));
    },
  } as unknown as Queue<QueueMessage>;
  return { sent, queue };
}

/** The real bucket, except that deleting fails. */
const failingBucket = new Proxy(env.BUCKET, {
  get(target, prop) {
    if (prop === "delete") return async () => Promise.reject(new Error("R2 is down"));
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  },
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a closed account's files", () => {
  it("go to the retried job when R2 fails after the commit, and the job deletes them", async () => {
    const w = await accountWorld();
    const jobs = recordingQueue();
    const svc = await jobContext({ ...env, BUCKET: failingBucket, JOBS: jobs.queue } as Env, "test:close");
    await closeAccount(svc, w.student.id);
    const closed = await env.DB.prepare("SELECT deletedAt FROM users WHERE id = ?")
      .bind(w.student.id)
      .first<{ deletedAt: number | null }>();
    expect(closed?.deletedAt).toEqual(expect.any(Number));
    expect(await env.BUCKET.head(w.past.s3Key)).not.toBeNull();
    const erase = jobs.sent.filter((m) => m.type === "account.erase_files");
    expect(erase).toEqual([{ type: "account.erase_files", userId: w.student.id }]);

    // the job, as the queue consumer runs it (retried with backoff while it throws)
    const real = await jobContext(env, "test:job");
    await expect(
      dispatch({ ...real, env: { ...env, BUCKET: failingBucket } as Env }, erase[0] as QueueMessage),
    ).rejects.toThrow("R2 is down");
    await dispatch(real, erase[0] as QueueMessage);
    expect(await env.BUCKET.head(w.past.s3Key)).toBeNull();
  });

  it("are logged as an error naming the user when the queue fails too; the account is closed anyway", async () => {
    const w = await accountWorld();
    const log = vi.spyOn(console, "log");
    const svc = await jobContext(
      { ...env, BUCKET: failingBucket, JOBS: recordingQueue(true).queue } as Env,
      "test:close-no-queue",
    );
    await closeAccount(svc, w.student.id);
    const lines = log.mock.calls.map((c) => String(c[0]));
    expect(lines.some((l) => l.includes('"level":"error"') && l.includes(w.student.id))).toBe(true);
    const row = await env.DB.prepare("SELECT deletedAt FROM users WHERE id = ?").bind(w.student.id).first();
    expect(row).toEqual({ deletedAt: expect.any(Number) });
  });

  it("are never erased by the job while the account is open", async () => {
    const w = await accountWorld();
    await dispatch(await jobContext(env, "test:stray"), { type: "account.erase_files", userId: w.student.id });
    expect(await env.BUCKET.head(w.past.s3Key)).not.toBeNull();
  });
});
