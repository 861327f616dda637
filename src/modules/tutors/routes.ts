/** Public tutor directory: listing by subject, one tutor, its avatar and its bookable slots. */

import { optionalCaller } from "../../http/auth";
import { wellFormedIfNoneMatch } from "../../http/media-type";
import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { AVATAR_CACHE_CONTROL, AVATAR_TYPES, readAvatar } from "./avatar";
import { listTutors } from "./directory";
import { listSlots } from "./schedule";
import { slotListSchema, slotsQuery, tutorIdParams, tutorListQuery, tutorPageSchema, tutorSchema } from "./schemas";
import { getTutor } from "./service";

const tags: ApiTag[] = ["Tutors"];
export const tutorRoutes = createRouter();

tutorRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/tutors",
    summary: "The tutor directory: approved tutors, by subject, sorted and filtered",
    tags,
    query: tutorListQuery,
    ok: {
      status: 200,
      description: "A page of tutors in the chosen order; the cursor keeps the order of the walk's first page",
      schema: tutorPageSchema,
    },
    errors: ["validation_failed"],
  }),
  async (c) => c.json(await listTutors(c.var.svc, c.req.valid("query")), 200),
);

tutorRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/tutors/{id}",
    summary: "One tutor (a tutor who is not approved: 404, except to themselves and admins)",
    tags,
    params: tutorIdParams,
    ok: { status: 200, description: "The tutor", schema: tutorSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getTutor(c.var.svc, c.req.valid("param").id, () => optionalCaller(c)), 200),
);

tutorRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/tutors/{id}/avatar",
    summary: "A tutor's avatar image",
    tags,
    params: tutorIdParams,
    ok: {
      status: 200,
      description: "The image bytes with their content type (cacheable, with an ETag)",
      content: Object.fromEntries(
        AVATAR_TYPES.map((t) => [t, { schema: { type: "string" as const, format: "binary" as const } }]),
      ),
    },
    conditional: true,
    errors: ["not_found"],
  }),
  async (c) => {
    const { object, contentType } = await readAvatar(
      c.var.svc,
      c.req.valid("param").id,
      wellFormedIfNoneMatch(c.req.header("if-none-match")),
    );
    const headers = { etag: object.httpEtag, "cache-control": AVATAR_CACHE_CONTROL };
    if (!("body" in object)) return c.body(null, 304, headers);
    return c.body(object.body, 200, {
      ...headers,
      "content-type": contentType,
      "content-length": String(object.size),
    });
  },
);

tutorRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/tutors/{id}/slots",
    summary: "A tutor's bookable slots",
    tags,
    params: tutorIdParams,
    query: slotsQuery,
    ok: { status: 200, description: "Every bookable slot in the range, by start time", schema: slotListSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await listSlots(c.var.svc, c.req.valid("param").id, c.req.valid("query")), 200),
);
