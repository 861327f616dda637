import { z } from "../../http/openapi";
import { humanText } from "../../lib/text";

export const subjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    createdAt: z.number().int(),
  })
  .openapi("Subject");

export const subjectListSchema = z
  .object({ items: z.array(subjectSchema), nextCursor: z.null() })
  .openapi("SubjectList");

/** Lowercase words of letters and digits joined by single hyphens: "math", "ap-calculus-2". */
export const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const createSubjectBody = z
  .strictObject({
    name: humanText({ min: 1, max: 100, name: true }),
    slug: z.string().min(1).max(64).regex(SLUG, "Lowercase letters, digits and single hyphens"),
  })
  .openapi("CreateSubject");

export type CreateSubjectInput = z.infer<typeof createSubjectBody>;
