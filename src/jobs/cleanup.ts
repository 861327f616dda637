/**
 * Cron: deletes rows whose purpose has expired, a bounded batch per table per run, each on an index:
 * idempotency records after 25 h (kept "at least 24 hours"), rate-limit events after the longest
 * window that counts them (the login-code failure budget's hour), one-time codes a day after they
 * expired, closed directory versions once no walk can still read them (their stamps are the
 * database's clock, which `Date.now()` follows; the current versions' validTo is never past).
 */
import type { ServiceContext } from "../context";
import { OTP_FAIL_WINDOW_MS } from "../modules/auth/otp";
import { LISTING_RETENTION_MS } from "../modules/tutors/listing";

const HOUR_MS = 60 * 60 * 1000;
const BATCH = 1000;

const targets = [
  { table: "idempotencyRecords", column: "createdAt", keepMs: 25 * HOUR_MS },
  { table: "rateLimitEvents", column: "createdAt", keepMs: OTP_FAIL_WINDOW_MS },
  { table: "otpCodes", column: "expiresAt", keepMs: 24 * HOUR_MS },
  { table: "tutorListings", column: "validTo", keepMs: LISTING_RETENTION_MS },
] as const;

export async function purgeExpired(svc: ServiceContext, now = Date.now()): Promise<Record<string, number>> {
  const results = await svc.d1.batch(
    targets.map((t) =>
      svc.d1
        .prepare(
          `DELETE FROM ${t.table} WHERE rowid IN (SELECT rowid FROM ${t.table} WHERE ${t.column} < ? LIMIT ${BATCH})`,
        )
        .bind(now - t.keepMs),
    ),
  );
  return Object.fromEntries(targets.map((t, i) => [t.table, results[i]?.meta.changes ?? 0]));
}
