/**
 * Cron: deletes rows whose purpose has expired, a bounded batch per table per run, each on an index:
 * idempotency records after 25 h (kept "at least 24 hours"), rate-limit events after the longest
 * window that counts them (the login-code failure budget's hour), one-time codes a day after they
 * expired, closed directory versions once no walk can still read them (their stamps are the
 * database's clock, which `Date.now()` follows; the current versions' validTo is never past), and
 * outgoing webhook deliveries and events after 30 days (the retry schedule ends after ~28 hours; a
 * delivery still pending — an admin's late retry — and its event are kept).
 */
import type { ServiceContext } from "../context";
import { OTP_FAIL_WINDOW_MS } from "../modules/auth/otp";
import { LISTING_RETENTION_MS } from "../modules/tutors/listing";

const HOUR_MS = 60 * 60 * 1000;
const BATCH = 1000;

const WEBHOOK_RETENTION_MS = 30 * 24 * HOUR_MS;

const targets: { table: string; column: string; keepMs: number; and?: string }[] = [
  { table: "idempotencyRecords", column: "createdAt", keepMs: 25 * HOUR_MS },
  { table: "rateLimitEvents", column: "createdAt", keepMs: OTP_FAIL_WINDOW_MS },
  { table: "otpCodes", column: "expiresAt", keepMs: 24 * HOUR_MS },
  { table: "tutorListings", column: "validTo", keepMs: LISTING_RETENTION_MS },
  { table: "webhookDeliveries", column: "createdAt", keepMs: WEBHOOK_RETENTION_MS, and: "status != 'pending'" },
  {
    table: "webhookEvents",
    column: "createdAt",
    keepMs: WEBHOOK_RETENTION_MS,
    and: "dispatchedAt IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhookDeliveries AS d WHERE d.eventId = webhookEvents.id AND d.status = 'pending')",
  },
];

export async function purgeExpired(svc: ServiceContext, now = Date.now()): Promise<Record<string, number>> {
  const results = await svc.d1.batch(
    targets.map((t) =>
      svc.d1
        .prepare(
          `DELETE FROM ${t.table} WHERE rowid IN (SELECT rowid FROM ${t.table} WHERE ${t.column} < ?${t.and ? ` AND ${t.and}` : ""} LIMIT ${BATCH})`,
        )
        .bind(now - t.keepMs),
    ),
  );
  return Object.fromEntries(targets.map((t, i) => [t.table, results[i]?.meta.changes ?? 0]));
}
