/**
 * The development test clock: `POST /v1/dev/clock` moves "now" for every route, job, sweep and
 * ledger operation (see lib/clock.ts); `GET` reads it. In production these routes answer 404, as if
 * they did not exist, and nothing reads an offset.
 */

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../http/context";
import { createRouter, defineRoute, z } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { setClock, testClockEnabled } from "../../lib/clock";
import { notFound } from "../../lib/errors";

const tags: ApiTag[] = ["Development"];
export const devRoutes = createRouter();

const developmentOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!testClockEnabled(c.var.svc.config)) throw notFound("Route");
  await next();
};

const clockSchema = z.object({ now: z.number().int(), offsetMs: z.number().int() }).openapi("DevClock");
const clockBody = z.union([
  z.strictObject({
    advanceMs: z
      .number()
      .int()
      .min(0)
      .max(366 * 24 * 3600 * 1000),
  }),
  z.strictObject({ reset: z.literal(true) }),
]);

devRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/dev/clock",
    summary: "The test clock (development only)",
    tags,
    middleware: [developmentOnly],
    ok: { status: 200, description: "Now by the test clock", schema: clockSchema },
    errors: ["not_found"],
  }),
  (c) => {
    const { clock } = c.var.svc;
    return c.json({ now: clock.now(), offsetMs: clock.offsetMs }, 200);
  },
);

devRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/dev/clock",
    summary: "Advance (cumulative) or reset the test clock (development only)",
    tags,
    body: clockBody,
    middleware: [developmentOnly],
    ok: { status: 200, description: "Now by the test clock", schema: clockSchema },
    errors: ["not_found"],
  }),
  async (c) => {
    const clock = await setClock(c.env.DB, c.req.valid("json"));
    return c.json({ now: clock.now(), offsetMs: clock.offsetMs }, 200);
  },
);
