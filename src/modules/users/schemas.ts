/** The shape of `GET /v1/me/export` (rows are the stored rows: docs/data-model.md names every field). */
import { z } from "../../http/openapi";
import { userSchema } from "../auth/schemas";

const rows = (description: string) => z.array(z.record(z.string(), z.unknown())).openapi({ description });
const row = (description: string) => z.record(z.string(), z.unknown()).nullable().openapi({ description });

export const exportSchema = z
  .object({
    format: z.literal("tutorloop.export.v1"),
    exportedAt: z.number().int(),
    user: userSchema.extend({ deletedAt: z.number().int().nullable() }),
    studentProfile: row("The student profile"),
    tutorProfile: row("The tutor profile with `subjectRefs` and its weekly `availability` rows"),
    sessionsAsStudent: rows(
      "Sessions booked as student, by start time, each with its `recordings` (metadata and transcript, never the audio) and `report`; no video pass phrases",
    ),
    sessionsAsTutor: rows("Sessions taught, the same shape"),
    ledger: rows("The credit statement in chain order"),
    orders: rows("Purchase orders, oldest first, each with its `cardRefunds` and `paymentEvents` (Stripe events)"),
    notifications: rows("In-app notifications, oldest first"),
    logins: rows("Refresh tokens (logins and rotations), without their hashes"),
    loginCodes: rows("Login codes sent to the address (kept a day after expiry), without their hashes"),
    adminActionsAboutYou: rows("Admin audit-log entries whose target is the caller"),
    adminActionsByYou: rows("Admin audit-log entries the caller made (admins)"),
    earnings: rows("A tutor's earnings ledger in chain order"),
    payoutAccount: z
      .object({
        accountId: z.string(),
        payoutsEnabled: z.boolean(),
        detailsSubmitted: z.boolean(),
        createdAt: z.number().int(),
        updatedAt: z.number().int(),
      })
      .nullable()
      .openapi({ description: "A tutor's Stripe Connect account (null before onboarding starts)" }),
    payouts: rows("A tutor's payouts, oldest first (every stored field)"),
    reviews: rows(
      "Reviews the user wrote as a student (`role: author`) and reviews their lessons received as a tutor (`role: subject`, without the author), oldest first",
    ),
  })
  .openapi("AccountExport");
