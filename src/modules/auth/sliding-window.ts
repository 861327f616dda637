/**
 * Sliding-window limits kept in D1 (rateLimitEvents: one row per counted event, read through the
 * (bucket, createdAt) index), for the login-code limits that need windows of 10 minutes and an hour.
 *
 * A request claims one slot in each of its windows with ONE conditional INSERT: every window's
 * event row or none, and only while each window has room. D1 runs statements one at a time, so
 * parallel requests can never claim more slots than a window holds; a check made before recording
 * (count, then insert) could let them all through.
 */
import type { ServiceContext } from "../../context";
import { newId } from "../../lib/crypto";
import { DomainError } from "../../lib/errors";

export interface Window {
  bucket: string;
  max: number;
  ms: number;
}

export interface Claim {
  /** The INSERT, to run alone or in a batch; it changed `ids.length` rows when the slots were claimed. */
  statement: D1PreparedStatement;
  /** The event ids, in the order of the windows (an id can be released later, see `release`). */
  ids: string[];
}

const countInWindow = "(SELECT COUNT(*) FROM rateLimitEvents WHERE bucket = ? AND createdAt > ?)";

export function claimSlots(svc: ServiceContext, windows: Window[], now: number): Claim {
  const ids = windows.map(() => newId("rl"));
  const statement = svc.d1
    .prepare(
      `INSERT INTO rateLimitEvents (id, bucket, createdAt)
SELECT column1, column2, ? FROM (VALUES ${windows.map(() => "(?, ?)").join(", ")})
WHERE ${windows.map(() => `${countInWindow} < ?`).join(" AND ")}`,
    )
    .bind(
      now,
      ...windows.flatMap((w, i) => [ids[i], w.bucket]),
      ...windows.flatMap((w) => [w.bucket, now - w.ms, w.max]),
    );
  return { statement, ids };
}

/** True when the claim's INSERT result says every slot was taken. */
export const claimed = (result: D1Result | undefined, claim: Claim) => result?.meta.changes === claim.ids.length;

/** Gives a claimed slot back (the event it stood for turned out not to count). */
export async function release(svc: ServiceContext, id: string): Promise<void> {
  await svc.d1.prepare("DELETE FROM rateLimitEvents WHERE id = ?").bind(id).run();
}

/** Seconds until `window` has room again, or null when it has room now. */
async function retryAfter(svc: ServiceContext, window: Window, now: number): Promise<number | null> {
  const row = await svc.d1
    .prepare("SELECT COUNT(*) AS n, MIN(createdAt) AS oldest FROM rateLimitEvents WHERE bucket = ? AND createdAt > ?")
    .bind(window.bucket, now - window.ms)
    .first<{ n: number; oldest: number | null }>();
  if (!row || row.n < window.max) return null;
  return Math.max(1, Math.ceil(((row.oldest ?? now) + window.ms - now) / 1000));
}

/** The 429 for a refused claim, with Retry-After for the fullest of `windows` (at least 1 second). */
export async function refusal(svc: ServiceContext, windows: Window[], now: number, detail: string) {
  const waits = await Promise.all(windows.map((w) => retryAfter(svc, w, now)));
  const wait = Math.max(1, ...waits.filter((w): w is number => w !== null));
  return new DomainError("rate_limited", detail, undefined, wait);
}
