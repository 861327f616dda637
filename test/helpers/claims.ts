/** A booking claim for tests that call the CreditLedger directly (no tutor calendar behind them). */
import type { SlotClaim } from "../../src/ledger/booking-sql";

/**
 * The claim of `[startTime, endTime)`: the tutor's zone as stored (null when the profile has none or
 * does not exist), and a local day that is the UTC day of the start.
 */
export function testClaim(
  tutorProfileId: string,
  studentProfileId: string,
  startTime: number,
  endTime: number,
  timezone: string | null = null,
): SlotClaim {
  const dayStart = Math.floor(startTime / 86_400_000) * 86_400_000;
  return { tutorProfileId, studentProfileId, startTime, endTime, timezone, dayStart, dayEnd: dayStart + 86_400_000 };
}
