/**
 * The private calendar feed (docs/calendar.md): the caller's URL, its rotation, and the feed.
 *
 * `/v1/calendar/{token}.ics`: @hono/zod-openapi turns the documented path into Hono's
 * `/v1/calendar/:token.ics`, where Hono reads `token.ics` as the parameter's NAME (any one path
 * segment, with or without the suffix). So the route declares no zod parameter (it would look for
 * `token` and answer 400); the document gets the `token` parameter from `tokenParameter`, and the
 * handler reads the segment itself: anything but `<43 base64url characters>.ics` is 404, like an
 * unknown token.
 */

import { wellFormedIfNoneMatch } from "../../http/media-type";
import { createRouter, defineRoute } from "../../http/openapi";
import type { ApiTag } from "../../http/openapi-document";
import { feedUrlSchema, tokenParameter } from "./schemas";
import { feedFor, getFeedUrl, rotateFeed } from "./service";

const tags: ApiTag[] = ["Calendar"];
export const calendarRoutes = createRouter();

/** Calendar apps poll a feed every few hours at most; five minutes spares D1 a client's quick repeats. */
const FEED_CACHE_CONTROL = "private, max-age=300";

calendarRoutes.openapi(
  defineRoute({
    method: "get",
    path: "/v1/me/calendar",
    summary: "The caller's private calendar feed URL (made on first use)",
    tags,
    guard: "user",
    ok: { status: 200, description: "The feed URL; the same on every call until a rotation", schema: feedUrlSchema },
  }),
  async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await getFeedUrl(c.var.svc, c.var.auth.userId), 200);
  },
);

calendarRoutes.openapi(
  defineRoute({
    method: "post",
    path: "/v1/me/calendar/rotate",
    summary: "A new feed URL; the old one stops working (404)",
    tags,
    guard: "user",
    ok: { status: 200, description: "The new feed URL", schema: feedUrlSchema },
  }),
  async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await rotateFeed(c.var.svc, c.var.auth.userId), 200);
  },
);

const feedRoute = defineRoute({
  method: "get",
  path: "/v1/calendar/{token}.ics",
  summary: "The iCalendar feed (RFC 5545) of the URL's owner: their sessions and time off",
  tags,
  ok: {
    status: 200,
    description:
      "`text/calendar`: one VEVENT per session (UID = session id, SEQUENCE grows with each reschedule, CANCELLED when cancelled) from 30 days ago on, and the tutor's time off as busy events",
    content: { "text/calendar": { schema: { type: "string" } } },
  },
  // an ETag, and 304 for a matching If-None-Match (service.ts)
  conditional: true,
  errors: ["not_found"],
});

calendarRoutes.openapi({ ...feedRoute, parameters: [tokenParameter] }, async (c) => {
  const segment = c.req.param("token.ics" as never) as string | undefined;
  const token = segment?.endsWith(".ics") ? segment.slice(0, -".ics".length) : "";
  const feed = await feedFor(c.var.svc, token, wellFormedIfNoneMatch(c.req.header("if-none-match")));
  const headers = { etag: feed.etag, "cache-control": FEED_CACHE_CONTROL, "x-robots-tag": "noindex" };
  if (feed.text === null) return c.body(null, 304, headers);
  return c.body(feed.text, 200, { ...headers, "content-type": "text/calendar; charset=utf-8" });
});
