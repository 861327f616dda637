/** Settings the e2e runner passes to the Worker and the tests read back (no env needed at import). */

/** Each e2e file logs in with its own admin address (the per-address OTP limit is 5 per 10 minutes). */
export const adminEmail = (file: string) => `admin-${file}@e2e.test`;
export const E2E_ADMIN_EMAILS = [
  "auth",
  "pay",
  "book",
  "rec",
  "authz",
  "admin",
  "money",
  "clock",
  "audit",
  "replay",
  "account",
  "hygiene",
  "resched",
  "life",
  "payouts",
  "calendar",
  "sched",
  "reviews",
  "approval",
  "sdk",
  "hooks",
]
  .map(adminEmail)
  .join(",");
export const MAX_RECORDING_BYTES = 1_000_000;
