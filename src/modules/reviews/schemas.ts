import { REVIEW_COMMENT_MAX } from "../../db/schema";
import { pageOf, z } from "../../http/openapi";
import { humanText } from "../../lib/text";

export const reviewBody = z
  .strictObject({
    rating: z.number().int().min(1).max(5).openapi({ description: "1 (poor) to 5 (excellent)" }),
    comment: humanText({ max: REVIEW_COMMENT_MAX, multiline: true }).optional(),
  })
  .openapi("ReviewInput");

export const reviewSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    tutorProfileId: z.string(),
    rating: z.number().int(),
    comment: z.string().nullable(),
    createdAt: z.number().int(),
  })
  .openapi("Review");

export const publicReviewSchema = z
  .object({
    id: z.string(),
    rating: z.number().int(),
    comment: z.string().nullable(),
    studentName: z.string().openapi({ description: "The reviewer's first name only" }),
    createdAt: z.number().int(),
  })
  .openapi("PublicReview");

export const publicReviewPage = pageOf(publicReviewSchema).openapi("PublicReviewPage");
