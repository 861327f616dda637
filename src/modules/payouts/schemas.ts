/** The shapes of the payout routes (API.md "Tutor earnings and payouts"). */
import { payoutStatuses } from "../../db/schema";
import { pageOf, pageQuery, z } from "../../http/openapi";

export const onboardingSchema = z
  .object({
    /** The tutor's Stripe Connect account (`acct_…`). */
    accountId: z.string(),
    /** Stripe's hosted onboarding page: single use and short-lived, so every call makes a new one. */
    onboardingUrl: z.string(),
    payoutsEnabled: z.boolean(),
  })
  .openapi("PayoutOnboarding");

export const payoutAccountSchema = z
  .object({ accountId: z.string(), payoutsEnabled: z.boolean(), detailsSubmitted: z.boolean() })
  .openapi("PayoutAccount");

export const payoutSchema = z
  .object({
    id: z.string(),
    amountCents: z.number().int(),
    currency: z.string(),
    status: z.enum(payoutStatuses),
    stripeTransferId: z.string().nullable(),
    failureReason: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("Payout");

export const adminPayoutSchema = payoutSchema.extend({ userId: z.string(), runId: z.string() }).openapi("AdminPayout");

export const adminPayoutsQuery = z.object({ ...pageQuery, status: z.enum(payoutStatuses).optional() });

export const payoutRunSchema = z
  .object({
    runId: z.string(),
    /** Payouts this request started. */
    payouts: z.number().int(),
    /** More candidates than one slice: the rest of the run goes on in the background. */
    continuing: z.boolean(),
  })
  .openapi("PayoutRun");

export const payoutsDueSchema = pageOf(
  z
    .object({
      userId: z.string(),
      /** Null only for a Connect account whose user has no tutor profile. */
      tutorProfileId: z.string().nullable(),
      displayName: z.string().nullable(),
      /** What the run would pay: the tutor's whole available earnings balance. */
      balanceCents: z.number().int(),
      currency: z.string(),
    })
    .openapi("PayoutDue"),
)
  .extend({
    /** PAYOUT_MINIMUM_CENTS: a tutor is due once their balance reaches it. */
    minimumCents: z.number().int(),
  })
  .openapi("PayoutsDue");

export type OnboardingView = z.infer<typeof onboardingSchema>;
export type PayoutAccountView = z.infer<typeof payoutAccountSchema>;
export type PayoutView = z.infer<typeof payoutSchema>;
export type AdminPayoutView = z.infer<typeof adminPayoutSchema>;
export type PayoutsDueView = z.infer<typeof payoutsDueSchema>;
