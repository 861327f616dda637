/** The shapes of a tutor's earnings routes (API.md "Tutor earnings and payouts"). */
import { earningsSources, ledgerTypes } from "../../db/schema";
import { z } from "../../http/openapi";

export const earningsSummarySchema = z
  .object({
    /** Available for payout: the latest `balanceAfterCents` of the tutor's earnings chain. */
    balanceCents: z.number().int(),
    /** What the tutor's open and disputed sessions would earn if they settled with no refund. */
    pendingCents: z.number().int(),
    currency: z.string(),
    /** Whether Stripe lets the tutor's Connect account receive payouts (false before onboarding). */
    payoutsEnabled: z.boolean(),
  })
  .openapi("EarningsSummary");

export const earningsEntrySchema = z
  .object({
    id: z.string(),
    type: z.enum(ledgerTypes),
    amountCents: z.number().int(),
    balanceAfterCents: z.number().int(),
    source: z.enum(earningsSources),
    sessionId: z.string().nullable(),
    payoutId: z.string().nullable(),
    description: z.string(),
    createdAt: z.number().int(),
  })
  .openapi("EarningsEntry");

export type EarningsSummaryView = z.infer<typeof earningsSummarySchema>;
export type EarningsEntryView = z.infer<typeof earningsEntrySchema>;
