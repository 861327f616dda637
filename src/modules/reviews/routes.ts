/** Reviews: a student rates a completed lesson; anyone reads an approved tutor's reviews. */

import { createRouter, defineRoute, pageQuery, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { idParams } from "../sessions/schemas";
import { publicReviewPage, reviewBody, reviewSchema } from "./schemas";
import { reviewSession, reviewView, tutorReviews } from "./service";

const tags: ApiTag[] = ["Reviews"];
export const reviewRoutes = createRouter();

reviewRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/sessions/{id}/review",
    summary: "Review a completed lesson (its student, once, within 30 days of its end)",
    tags,
    guard: "student",
    params: idParams,
    body: reviewBody,
    ok: { status: 201, description: "The review; the tutor's rating moved in the same step", schema: reviewSchema },
    errors: ["not_found", "conflict", "policy_window_closed"],
  }),
  async (c) =>
    c.json(reviewView(await reviewSession(c.var.svc, c.var.auth, c.req.valid("param").id, c.req.valid("json"))), 201),
);

reviewRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/tutors/{id}/reviews",
    summary: "An approved tutor's reviews, newest first",
    tags,
    params: idParams,
    query: z.object(pageQuery),
    ok: { status: 200, description: "A page of reviews", schema: publicReviewPage },
    errors: ["not_found"],
  }),
  async (c) => c.json(await tutorReviews(c.var.svc, c.req.valid("param").id, c.req.valid("query")), 200),
);
