/**
 * `Idempotency-Key` (1–255 chars) for unsafe routes: the same key with the same body by the same user
 * returns the first response and performs nothing twice; a different body is 422; a duplicate that
 * arrives while the first is still running waits for it (up to a few seconds), then gets 409.
 * 5xx answers (and a handler's own 422) are not stored. Records are kept at least 24 hours.
 */
import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../lib/crypto";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An `in_progress` record this old belongs to a request that died (a crashed isolate): reclaim it. */
export const IN_PROGRESS_STALE_MS = 60 * 1000;
const WAIT_MS = 5_000;

interface RecordRow {
  requestHash: string;
  state: "in_progress" | "done";
  responseStatus: number | null;
  responseBody: string | null;
  createdAt: number;
}

export function idempotent(scope: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined) return next();
    if (key.length < 1 || key.length > 255) {
      throw new ApiError("validation_failed", "Idempotency-Key must be 1–255 characters", [
        { path: "Idempotency-Key", message: "1–255 characters" },
      ]);
    }
    const { d1 } = c.var.svc;
    const userId = c.var.auth.userId;
    const hash = await sha256Hex(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
    const claim = () =>
      d1
        .prepare(
          "INSERT INTO idempotencyRecords (userId, scope, key, requestHash, state, createdAt) VALUES (?, ?, ?, ?, 'in_progress', ?) ON CONFLICT DO NOTHING",
        )
        .bind(userId, scope, key, hash, Date.now())
        .run();
    const read = () =>
      d1
        .prepare(
          "SELECT requestHash, state, responseStatus, responseBody, createdAt FROM idempotencyRecords WHERE userId = ? AND scope = ? AND key = ?",
        )
        .bind(userId, scope, key)
        .first<RecordRow>();
    const release = () =>
      d1
        .prepare("DELETE FROM idempotencyRecords WHERE userId = ? AND scope = ? AND key = ? AND state = 'in_progress'")
        .bind(userId, scope, key)
        .run();

    let claimed = (await claim()).meta.changes > 0;
    if (!claimed) {
      let row = await read();
      const expired = row && row.createdAt < Date.now() - IDEMPOTENCY_TTL_MS;
      const abandoned = row?.state === "in_progress" && row.createdAt < Date.now() - IN_PROGRESS_STALE_MS;
      if (row && (expired || abandoned)) {
        await d1
          .prepare("DELETE FROM idempotencyRecords WHERE userId = ? AND scope = ? AND key = ? AND createdAt = ?")
          .bind(userId, scope, key, row.createdAt)
          .run();
        claimed = (await claim()).meta.changes > 0;
        row = claimed ? null : await read();
      }
      if (!claimed) {
        const waitUntil = Date.now() + WAIT_MS;
        while (row?.state === "in_progress" && row.requestHash === hash && Date.now() < waitUntil) {
          await new Promise((r) => setTimeout(r, 50));
          row = await read();
        }
        if (!row) {
          // The first attempt failed with a 5xx and released the key: this one may run.
          claimed = (await claim()).meta.changes > 0;
          if (!claimed) throw new ApiError("conflict", "A request with this Idempotency-Key is in progress");
        } else if (row.requestHash !== hash) {
          throw new ApiError("idempotency_conflict", "This Idempotency-Key was used with a different request");
        } else if (row.state === "in_progress") {
          throw new ApiError("conflict", "A request with this Idempotency-Key is in progress");
        } else {
          return new Response(row.responseBody, {
            status: row.responseStatus ?? 200,
            headers: {
              "content-type": (row.responseStatus ?? 200) >= 400 ? "application/problem+json" : "application/json",
              "idempotent-replayed": "true",
            },
          });
        }
      }
    }

    await next();
    // A 422 from the handler means the key already belongs to another request (the ledger remembers
    // keys longer than these records): it must not become this request's key either.
    if (c.res.status >= 500 || c.res.status === 422) {
      await release();
      return;
    }
    const body = await c.res.clone().text();
    await d1
      .prepare(
        "UPDATE idempotencyRecords SET state = 'done', responseStatus = ?, responseBody = ? WHERE userId = ? AND scope = ? AND key = ?",
      )
      .bind(c.res.status, body, userId, scope, key)
      .run();
  };
}
