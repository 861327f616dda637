/** Shapes of the calendar feed routes. */
import { z } from "../../http/openapi";

export const feedUrlSchema = z
  .object({
    url: z.url().openapi({
      description:
        "The caller's private iCalendar feed, `PUBLIC_API_URL/v1/calendar/<token>.ics`: anyone holding it reads the feed, so share it only with a calendar app",
      example: "https://api.tutorloop.example/v1/calendar/2cDx6Qm0v1Xh0a3W6Vq9-5f0T2lY0nq8rW3kS1bQyZc.ics",
    }),
  })
  .openapi("CalendarFeedUrl");

/** The token path parameter, for the document only: the handler reads the raw segment (see routes.ts). */
export const tokenParameter = {
  name: "token",
  in: "path" as const,
  required: true,
  description: "The feed's secret token (43 base64url characters), as in the URL from GET /v1/me/calendar",
  schema: { type: "string" as const, pattern: "^[A-Za-z0-9_-]{43}$" },
  example: "q3X9v0LkTz7b2N8wYpR4sM1cF6hJ5dGaE0uWiKoQlVn",
};
