/**
 * The demo's scheduling part: the tutor moves to New York time and sets booking rules and a time
 * off; the slot list follows them; the student books four weekly lessons in one step (same local
 * time, one summary e-mail); both see them in their private calendar feeds; the tutor cancels the
 * series (each lesson refunded) and the tutor's hours and rules are put back, so the rest of the
 * demo starts from the same balances and calendar. Every API call goes through the typed SDK.
 */
import { idempotencyKey, unwrap } from "../sdk/src/index.ts";
import type { Client, Tokens } from "../tools/offline/client.ts";
import { sdkAs } from "./demo-sdk.ts";

export interface SchedulingDemo {
  c: Client;
  step: (msg: string, detail?: unknown) => void;
  admin: Tokens;
  student: Tokens;
  tutor: Tokens;
  tutorProfileId: string;
  subjectId: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ZONE = "America/New_York";
const local = (ms: number) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, dateStyle: "medium", timeStyle: "short" }).format(ms);

export async function schedulingJourney({ c, step, admin, student, tutor, tutorProfileId, subjectId }: SchedulingDemo) {
  const [asTutor, asStudent, asAdmin] = [sdkAs(c, tutor), sdkAs(c, student), sdkAs(c, admin)];
  const hoursBefore = unwrap(await asTutor.GET("/v1/me/tutor-profile/availability"));
  const rulesBefore = unwrap(await asTutor.GET("/v1/me/tutor-profile/booking-rules"));
  unwrap(
    await asTutor.PUT("/v1/me/tutor-profile/availability", {
      body: {
        timezone: ZONE,
        weekly: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "20:00" })),
      },
    }),
  );
  const rules = unwrap(
    await asTutor.PUT("/v1/me/tutor-profile/booking-rules", {
      body: {
        minNoticeMinutes: 120,
        bufferBeforeMinutes: 15,
        bufferAfterMinutes: 15,
        maxSessionsPerDay: 3,
        horizonDays: 120,
      },
    }),
  );
  step("Tutor switched to New York hours (08:00–20:00) and set booking rules", rules);

  // a day off four days from now (local midnight to midnight, roughly: the slot list shows the effect)
  const offStart = Math.ceil((Date.now() + 4 * DAY) / DAY) * DAY;
  const off = unwrap(
    await asTutor.POST("/v1/me/tutor-profile/time-off", {
      body: { startTime: offStart, endTime: offStart + DAY, note: "Conference" },
    }),
  );
  const slots = unwrap(
    await asStudent.GET("/v1/tutors/{id}/slots", {
      params: {
        path: { id: tutorProfileId },
        query: { from: offStart - DAY, to: offStart + 2 * DAY, durationMinutes: 60 },
      },
    }),
  );
  const inOff = slots.items.filter((s) => s.startTime < offStart + DAY && s.startTime + HOUR > offStart).length;
  step(`Tutor took a day off (${new Date(offStart).toISOString().slice(0, 10)} UTC): the slot list skips it`, {
    timeOff: off,
    slotsAroundIt: slots.items.length,
    slotsInsideIt: inOff,
  });

  const first = slots.items.find((s) => s.startTime >= offStart + DAY)?.startTime;
  if (!first) throw new Error("no slot after the day off");
  const adjust = async (type: "credit" | "debit", description: string) =>
    unwrap(
      await asAdmin.POST("/v1/admin/credits/adjustments", {
        params: { header: idempotencyKey() },
        body: { userId: student.user.id, type, amount: 8, description },
      }),
    );
  await adjust("credit", "Demo: credits for a weekly series");
  const series = unwrap(
    await asStudent.POST("/v1/sessions/series", {
      params: { header: idempotencyKey() },
      body: { tutorProfileId, subjectId, startTime: first, durationMinutes: 60, count: 4 },
    }),
  );
  step(`Student booked 4 weekly lessons in one step (series ${series.seriesId}), each at the same New York time`, {
    lessons: series.sessions.map((s) => local(s.startTime)),
  });
  const mail = await c.mail(student.user.email, /Your weekly sessions with/);
  step("One summary e-mail for the whole series", { subject: mail.subject });

  for (const [who, client] of [
    ["Student", asStudent],
    ["Tutor", asTutor],
  ] as const) {
    const { url } = unwrap(await client.GET("/v1/me/calendar"));
    const res = await fetch(url);
    const ics = await res.text();
    const events = ics.split("BEGIN:VEVENT").length - 1;
    const summaries = [...new Set([...ics.matchAll(/^SUMMARY:(.*)$/gm)].map((m) => m[1]))];
    // what a calendar app's next poll gets while nothing changed
    const etag = res.headers.get("etag") ?? "";
    const again = await fetch(url, { headers: { "if-none-match": etag } });
    if (again.status !== 304) throw new Error(`the feed polled with its ETag answered ${again.status}, not 304`);
    step(`${who}'s private calendar feed (subscribe to it in any calendar app): ${events} events`, {
      url: url.replace(/[A-Za-z0-9_-]{20,}\.ics$/, "<token>.ics"),
      summaries,
      pollWithETag: `${again.status} Not Modified`,
    });
  }

  const cancelled = unwrap(
    await asTutor.POST("/v1/sessions/series/{id}/cancel", {
      params: { path: { id: series.seriesId } },
      body: { reason: "Timetable change" },
    }),
  );
  step("Tutor cancelled the series: every lesson refunded", {
    statuses: cancelled.sessions.map((s) => `${s.status} (${s.refundedCredits} back)`),
  });
  // the rest of the demo starts from the balance, hours and rules it had before this part
  await adjust("debit", "Demo: the weekly series' credits taken back");
  const removed = await asTutor.DELETE("/v1/me/tutor-profile/time-off/{id}", { params: { path: { id: off.id } } });
  if (removed.response.status !== 204) throw new Error(`time off delete: ${removed.response.status}`);
  // (a tutor who never set hours has no time zone: put back UTC, the default)
  unwrap(
    await asTutor.PUT("/v1/me/tutor-profile/availability", {
      body: { ...hoursBefore, timezone: hoursBefore.timezone ?? "UTC" },
    }),
  );
  unwrap(await asTutor.PUT("/v1/me/tutor-profile/booking-rules", { body: rulesBefore }));
}
