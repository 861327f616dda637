/** The development test clock (POST /v1/dev/clock) for test files that need fixed calendar dates. */
import { expect } from "vitest";
import { call, json } from "./api";

const MAX_STEP_MS = 300 * 24 * 3_600_000;

/** Moves the server's "now" (this test file's own storage) forward to `target` (one move is ≤ 366 days). */
export async function moveClockTo(target: number) {
  const now = async () => (await json<{ now: number }>(await call("/v1/dev/clock"))).now;
  for (let left = target - (await now()); left > 0; left -= MAX_STEP_MS) {
    const advanceMs = Math.min(left, MAX_STEP_MS);
    expect((await call("/v1/dev/clock", { body: { advanceMs } })).status).toBe(200);
  }
}

export async function resetClock() {
  await call("/v1/dev/clock", { body: { reset: true } });
}

export const serverNow = async () => (await json<{ now: number }>(await call("/v1/dev/clock"))).now;
