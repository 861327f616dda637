import { tutorStatuses } from "../../db/schema";
import { pageOf, pageQuery, z } from "../../http/openapi";
import { humanText } from "../../lib/text";
import { tutorProfileSchema } from "./schemas";

/** What an admin can set (`pending` is only where a new profile starts). */
export const settableStatuses = ["approved", "rejected", "suspended"] as const;
/** Longest reason an admin may give (it is shown to the tutor, in-app and by e-mail). */
export const STATUS_REASON_MAX = 500;

export const adminTutorSchema = tutorProfileSchema
  .extend({ statusChangedAt: z.number().int().nullable().openapi({ description: "Last admin status change" }) })
  .openapi("AdminTutorProfile");

export const adminTutorListQuery = z.object({
  ...pageQuery,
  status: z.enum(tutorStatuses).default("pending").openapi({
    description: "`pending` (the default) oldest first; any other status newest first",
    default: "pending",
  }),
});

export const adminTutorPageSchema = pageOf(adminTutorSchema).openapi("AdminTutorPage");

export const tutorStatusBody = z
  .strictObject({
    status: z.enum(settableStatuses),
    reason: humanText({ min: 1, max: STATUS_REASON_MAX, multiline: true })
      .optional()
      .openapi({ description: "Shown to the tutor (in-app and by e-mail)" }),
  })
  .openapi("TutorStatusChange");

export type TutorStatusInput = z.infer<typeof tutorStatusBody>;
