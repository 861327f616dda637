/**
 * The demo's scheduling part: the tutor moves to New York time and sets booking rules and a time
 * off; the slot list follows them; the student books four weekly lessons in one step (same local
 * time, one summary e-mail); both see them in their private calendar feeds; the tutor cancels the
 * series (each lesson refunded) and the tutor's hours and rules are put back, so the rest of the
 * demo starts from the same balances and calendar.
 */
import type { Client, Tokens } from "../tools/offline/client.ts";

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
  const t = tutor.accessToken;
  const hoursBefore = await c.ok("/v1/me/tutor-profile/availability", { token: t });
  const rulesBefore = await c.ok("/v1/me/tutor-profile/booking-rules", { token: t });
  await c.ok("/v1/me/tutor-profile/availability", {
    method: "PUT",
    token: t,
    body: {
      timezone: ZONE,
      weekly: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "20:00" })),
    },
  });
  const rules = await c.ok("/v1/me/tutor-profile/booking-rules", {
    method: "PUT",
    token: t,
    body: {
      minNoticeMinutes: 120,
      bufferBeforeMinutes: 15,
      bufferAfterMinutes: 15,
      maxSessionsPerDay: 3,
      horizonDays: 120,
    },
  });
  step("Tutor switched to New York hours (08:00–20:00) and set booking rules", rules);

  // a day off four days from now (local midnight to midnight, roughly: the slot list shows the effect)
  const offStart = Math.ceil((Date.now() + 4 * DAY) / DAY) * DAY;
  const off = await c.ok<{ id: string; conflictingSessionIds: string[] }>(
    "/v1/me/tutor-profile/time-off",
    { token: t, body: { startTime: offStart, endTime: offStart + DAY, note: "Conference" } },
    201,
  );
  const slots = await c.ok<{ items: { startTime: number }[] }>(
    `/v1/tutors/${tutorProfileId}/slots?from=${offStart - DAY}&to=${offStart + 2 * DAY}&durationMinutes=60`,
  );
  const inOff = slots.items.filter((s) => s.startTime < offStart + DAY && s.startTime + HOUR > offStart).length;
  step(`Tutor took a day off (${new Date(offStart).toISOString().slice(0, 10)} UTC): the slot list skips it`, {
    timeOff: off,
    slotsAroundIt: slots.items.length,
    slotsInsideIt: inOff,
  });

  const first = slots.items.find((s) => s.startTime >= offStart + DAY)?.startTime;
  if (!first) throw new Error("no slot after the day off");
  const adjust = (type: "credit" | "debit", description: string) =>
    c.ok(
      "/v1/admin/credits/adjustments",
      { token: admin.accessToken, body: { userId: student.user.id, type, amount: 8, description } },
      201,
    );
  await adjust("credit", "Demo: credits for a weekly series");
  const series = await c.ok<{ seriesId: string; sessions: { id: string; startTime: number }[] }>(
    "/v1/sessions/series",
    {
      token: student.accessToken,
      body: { tutorProfileId, subjectId, startTime: first, durationMinutes: 60, count: 4 },
      headers: { "idempotency-key": crypto.randomUUID() },
    },
    201,
  );
  step(`Student booked 4 weekly lessons in one step (series ${series.seriesId}), each at the same New York time`, {
    lessons: series.sessions.map((s) => local(s.startTime)),
  });
  const mail = await c.mail(student.user.email, /Your weekly sessions with/);
  step("One summary e-mail for the whole series", { subject: mail.subject });

  for (const [who, token] of [
    ["Student", student.accessToken],
    ["Tutor", t],
  ] as const) {
    const { url } = await c.ok<{ url: string }>("/v1/me/calendar", { token });
    const ics = await (await fetch(url)).text();
    const events = ics.split("BEGIN:VEVENT").length - 1;
    const summaries = [...new Set([...ics.matchAll(/^SUMMARY:(.*)$/gm)].map((m) => m[1]))];
    step(`${who}'s private calendar feed (subscribe to it in any calendar app): ${events} events`, {
      url: url.replace(/[A-Za-z0-9_-]{20,}\.ics$/, "<token>.ics"),
      summaries,
    });
  }

  const cancelled = await c.ok<{ sessions: { status: string; refundedCredits: number }[] }>(
    `/v1/sessions/series/${series.seriesId}/cancel`,
    { token: t, body: { reason: "Timetable change" } },
  );
  step("Tutor cancelled the series: every lesson refunded", {
    statuses: cancelled.sessions.map((s) => `${s.status} (${s.refundedCredits} back)`),
  });
  // the rest of the demo starts from the balance, hours and rules it had before this part
  await adjust("debit", "Demo: the weekly series' credits taken back");
  const removed = await c.call(`/v1/me/tutor-profile/time-off/${off.id}`, { method: "DELETE", token: t });
  if (removed.status !== 204) throw new Error(`time off delete: ${removed.status}`);
  await c.ok("/v1/me/tutor-profile/availability", { method: "PUT", token: t, body: hoursBefore });
  await c.ok("/v1/me/tutor-profile/booking-rules", { method: "PUT", token: t, body: rulesBefore });
}
