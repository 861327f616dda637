/**
 * One delivery attempt, off every request path (a queue job on its own queue). The attempt is
 * claimed first — a conditional UPDATE that only a due, pending delivery passes, holding it a lease
 * ahead — so a doubled message or the sweep's re-enqueue never sends twice at once. Then: sign,
 * POST with a 10 s timeout and no redirects, keep at most 1 KiB of the answer, and either mark it
 * delivered or schedule the next attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then `failed`).
 */
import type { ServiceContext } from "../../context";
import { enqueue } from "../../queues/enqueue";
import { signatureHeaders } from "./signing";
import { refuseTarget } from "./target";

/** Delays before the 2nd … 8th attempt: Standard Webhooks' recommended schedule. */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** How long a claimed attempt holds its delivery: longer than the timeout, so only a crash outlives it. */
export const ATTEMPT_LEASE_MS = 60_000;
export const RESPONSE_BODY_BYTES = 1024;

interface Claimed {
  id: string;
  endpointId: string;
  eventId: string;
  attempts: number;
  finalAttempt: number;
}

interface Target {
  url: string | null;
  enabled: number | null;
  secret: string | null;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  body: string | null;
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

/** The first RESPONSE_BODY_BYTES of a stream as text, never more (the rest is not read). */
async function boundedText(res: Response): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < RESPONSE_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  const bytes = new Uint8Array(Math.min(size, RESPONSE_BODY_BYTES));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
    if (at >= bytes.length) break;
  }
  let text = new TextDecoder().decode(bytes, { stream: true });
  // replacement characters can make the text longer than its bytes: trim to the cap
  while (new TextEncoder().encode(text).byteLength > RESPONSE_BODY_BYTES) text = text.slice(0, -1);
  return text;
}

/** POSTs the signed body once. Never throws: a network error or the timeout is an outcome too. */
export async function attempt(url: string, headers: Record<string, string>, body: string): Promise<AttemptOutcome> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "tutorloop-webhooks/1", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const responseBody = await boundedText(res).catch(() => null);
    const ok = res.status >= 200 && res.status < 300;
    const error = ok
      ? null
      : res.status >= 300 && res.status < 400
        ? "Redirects are not followed"
        : `HTTP ${res.status}`;
    return { ok, statusCode: res.status, error, responseBody };
  } catch (err) {
    const name = (err as Error)?.name;
    const error =
      name === "TimeoutError" || name === "AbortError"
        ? `No answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`
        : `Network error: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
    return { ok: false, statusCode: null, error, responseBody: null };
  }
}

async function claim(svc: ServiceContext, deliveryId: string, now: number): Promise<Claimed | null> {
  return svc.d1
    .prepare(
      `UPDATE webhookDeliveries SET attempts = attempts + 1, nextAttemptAt = ?, updatedAt = ?
WHERE id = ? AND status = 'pending' AND nextAttemptAt <= ?
RETURNING id, endpointId, eventId, attempts, finalAttempt`,
    )
    .bind(now + ATTEMPT_LEASE_MS, now, deliveryId, now)
    .first<Claimed>();
}

/** Runs one attempt of the delivery if it is due; schedules or finishes it. */
export async function deliverJob(svc: ServiceContext, m: { deliveryId: string }): Promise<void> {
  const claimed = await claim(svc, m.deliveryId, svc.clock.now());
  if (!claimed) return; // not due, already done, or another attempt holds it
  const target = await svc.d1
    .prepare(
      `SELECT w.url, w.enabled, w.secret, w.previousSecret, w.previousSecretExpiresAt, e.body
FROM webhookEvents AS e LEFT JOIN webhookEndpoints AS w ON w.id = ? WHERE e.id = ?`,
    )
    .bind(claimed.endpointId, claimed.eventId)
    .first<Target>();
  if (!target?.url || target.body === null || target.secret === null) return; // the endpoint was deleted
  const refused = !target.enabled ? "The endpoint is disabled" : refuseTarget(target.url, svc.config.ENVIRONMENT);
  const now = svc.clock.now();
  const outcome: AttemptOutcome = refused
    ? { ok: false, statusCode: null, error: refused, responseBody: null }
    : await attempt(
        target.url,
        signatureHeaders(
          {
            secret: target.secret,
            previousSecret: target.previousSecret,
            previousSecretExpiresAt: target.previousSecretExpiresAt,
          },
          claimed.eventId,
          target.body,
          new Date(),
          now,
        ),
        target.body,
      );
  const after = svc.clock.now();
  await record(svc, claimed, outcome, after, refused !== null);
}

async function record(svc: ServiceContext, d: Claimed, o: AttemptOutcome, now: number, hopeless: boolean) {
  const delay = RETRY_SCHEDULE_MS[d.attempts - 1];
  const retry = !o.ok && !hopeless && !d.finalAttempt && delay !== undefined;
  const status = o.ok ? "delivered" : retry ? "pending" : "failed";
  const nextAttemptAt = retry && delay !== undefined ? now + delay : null;
  await svc.d1.batch([
    svc.d1
      .prepare(
        `UPDATE webhookDeliveries SET status = ?, lastStatusCode = ?, lastError = ?, lastResponseBody = ?,
  nextAttemptAt = ?, finalAttempt = 0, deliveredAt = CASE WHEN ? THEN ? ELSE deliveredAt END, updatedAt = ?
WHERE id = ?`,
      )
      .bind(status, o.statusCode, o.error, o.responseBody, nextAttemptAt, o.ok ? 1 : 0, now, now, d.id),
    o.ok
      ? svc.d1
          .prepare("UPDATE webhookEndpoints SET failingSince = NULL WHERE id = ? AND failingSince IS NOT NULL")
          .bind(d.endpointId)
      : svc.d1
          .prepare("UPDATE webhookEndpoints SET failingSince = ? WHERE id = ? AND failingSince IS NULL")
          .bind(now, d.endpointId),
  ]);
  if (retry && delay !== undefined) {
    // the queue brings it back after the delay; the sweep catches it if this message is lost
    await enqueue(svc, { type: "webhooks.deliver", deliveryId: d.id }, Math.ceil(delay / 1000));
  }
}
