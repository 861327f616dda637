/** The caller's own tutor profile: creation, updates, weekly availability and avatar. */

import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { AVATAR_MAX_BYTES, AVATAR_TYPES, uploadAvatar } from "./avatar";
import { getOwnAvailability, replaceAvailability } from "./schedule";
import {
  availabilityBody,
  availabilitySchema,
  createTutorProfileBody,
  toWeeklyRanges,
  tutorProfileSchema,
  updateTutorProfileBody,
} from "./schemas";
import { createTutorProfile, getOwnTutorProfile, updateTutorProfile } from "./service";

const tags: ApiTag[] = ["Tutor profile"];
export const tutorProfileRoutes = createRouter();

tutorProfileRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/me/tutor-profile",
    summary: "Create the caller's tutor profile",
    tags,
    guard: "user",
    body: createTutorProfileBody,
    ok: { status: 201, description: "The new tutor profile, linked to the caller", schema: tutorProfileSchema },
    errors: ["conflict"],
  }),
  async (c) => {
    const { user } = c.var.auth;
    return c.json(await createTutorProfile(c.var.svc, user, c.req.valid("json")), 201);
  },
);

tutorProfileRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/tutor-profile",
    summary: "The caller's tutor profile",
    tags,
    guard: "tutor",
    ok: { status: 200, description: "The tutor profile", schema: tutorProfileSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getOwnTutorProfile(c.var.svc, c.var.auth.userId), 200),
);

tutorProfileRoutes.openapi(
  defineRoute({
    method: "patch",
    path: "/v1/me/tutor-profile",
    summary: "Update the caller's tutor profile",
    tags,
    guard: "tutor",
    body: updateTutorProfileBody,
    ok: { status: 200, description: "The updated tutor profile", schema: tutorProfileSchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await updateTutorProfile(c.var.svc, c.var.auth.userId, c.req.valid("json")), 200),
);

tutorProfileRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/tutor-profile/availability",
    summary: "The caller's weekly availability",
    tags,
    guard: "tutor",
    ok: { status: 200, description: "The stored availability", schema: availabilitySchema },
    errors: ["not_found"],
  }),
  async (c) => c.json(await getOwnAvailability(c.var.svc, c.var.auth.userId), 200),
);

tutorProfileRoutes.openapi(
  defineRoute({
    method: "put",
    path: "/v1/me/tutor-profile/availability",
    summary: "Replace the caller's weekly availability",
    tags,
    guard: "tutor",
    body: availabilityBody,
    ok: { status: 200, description: "The stored availability", schema: availabilitySchema },
    errors: ["not_found"],
  }),
  async (c) => {
    const { timezone, weekly } = c.req.valid("json");
    // The body schema has already checked every clock, so the conversion cannot fail here.
    const ranges = toWeeklyRanges(weekly) ?? [];
    return c.json(await replaceAvailability(c.var.svc, c.var.auth.userId, { timezone, weekly: ranges }), 200);
  },
);

tutorProfileRoutes.openapi(
  defineRoute({
    method: "put",
    path: "/v1/me/tutor-profile/avatar",
    summary: "Upload the caller's avatar",
    tags,
    guard: "tutor",
    rawBody: {
      contentTypes: [...AVATAR_TYPES],
      description: `The image bytes (at most ${AVATAR_MAX_BYTES} bytes)`,
    },
    ok: { status: 200, description: "The tutor profile with its new avatar", schema: tutorProfileSchema },
    errors: ["validation_failed", "not_found", "conflict", "payload_too_large", "unsupported_media_type"],
  }),
  async (c) => {
    const profile = await uploadAvatar(c.var.svc, c.var.auth.userId, {
      contentType: c.req.header("content-type"),
      contentLength: c.req.header("content-length"),
      body: c.req.raw.body,
    });
    return c.json(profile, 200);
  },
);
