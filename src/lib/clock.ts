/**
 * The one source of "now" for domain rules: booking notice, cancellation windows, sweeps, order
 * recovery, ledger timestamps. In development a test clock can move it forward (`POST /v1/dev/clock`)
 * so a black-box client walks days of policy in seconds; the offset lives in D1 (`devClock`) because
 * routes, queue consumers, cron and Durable Objects may run in different isolates and must agree.
 * In production nothing reads an offset. Token and login-code lifetimes, rate-limit windows and
 * Stripe's signature tolerance deliberately keep `Date.now()`: the test clock moves the marketplace,
 * not security.
 */
import type { Config } from "../config";

export interface Clock {
  /** Milliseconds since the epoch, by the (test) clock. */
  now(): number;
  /** How far the test clock is ahead of the real one (0 outside development). */
  offsetMs: number;
}

export const systemClock: Clock = { now: () => Date.now(), offsetMs: 0 };

/** The test clock exists only in development (and in the unit tests' `test` environment). */
export const testClockEnabled = (config: Pick<Config, "ENVIRONMENT">) => config.ENVIRONMENT !== "production";

export function offsetClock(offsetMs: number): Clock {
  return offsetMs === 0 ? systemClock : { now: () => Date.now() + offsetMs, offsetMs };
}

/** Reads the test clock's offset (one primary-key read); production never calls D1 for it. */
export async function loadClock(db: D1Database, config: Pick<Config, "ENVIRONMENT">): Promise<Clock> {
  if (!testClockEnabled(config)) return systemClock;
  const row = await db.prepare("SELECT offsetMs FROM devClock WHERE id = 1").first<{ offsetMs: number }>();
  return offsetClock(row?.offsetMs ?? 0);
}

/** Moves the test clock forward by `advanceMs` (cumulative) or back to the real time. */
export async function setClock(db: D1Database, change: { advanceMs: number } | { reset: true }): Promise<Clock> {
  const now = Date.now();
  if ("reset" in change) {
    await db.prepare("DELETE FROM devClock WHERE id = 1").run();
    return systemClock;
  }
  const row = await db
    .prepare(
      `INSERT INTO devClock (id, offsetMs, updatedAt) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET offsetMs = offsetMs + excluded.offsetMs, updatedAt = excluded.updatedAt
RETURNING offsetMs`,
    )
    .bind(change.advanceMs, now)
    .first<{ offsetMs: number }>();
  return offsetClock(row?.offsetMs ?? 0);
}
