import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { call, env, expectProblem, json } from "../helpers/api";
import { allWeek, createTutor, DAY, HOUR, insertSession, insertSubject, MIN, putAvailability, utc } from "./fixtures";

interface Slots {
  items: { startTime: number; endTime: number }[];
  nextCursor: null;
}

/** A tutor with these weekly hours who takes bookings up to a year ahead (the fixed dates below). */
async function tutorWith(timezone: string, weekly: { weekday: number; start: string; end: string }[]) {
  const t = await createTutor({ subjectIds: [(await insertSubject()).id] });
  await putAvailability(t.token, timezone, weekly);
  const rules = {
    minNoticeMinutes: getConfig(env).BOOKING_MIN_NOTICE_MINUTES,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 0,
    maxSessionsPerDay: null,
    horizonDays: 365,
  };
  expect(
    (await call("/v1/me/tutor-profile/booking-rules", { method: "PUT", token: t.token, body: rules })).status,
  ).toBe(200);
  return t;
}

async function slots(tutorId: string, from: number, to: number, durationMinutes?: number): Promise<Slots> {
  const duration = durationMinutes === undefined ? "" : `&durationMinutes=${durationMinutes}`;
  const res = await call(`/v1/tutors/${tutorId}/slots?from=${from}&to=${to}${duration}`);
  expect(res.status).toBe(200);
  return json<Slots>(res);
}

const times = (body: Slots) => body.items.map((s) => new Date(s.startTime).toISOString().slice(5, 16));

/** Now by the server's (test) clock. */
const serverNow = async () => (await json<{ now: number }>(await call("/v1/dev/clock"))).now;

// The fixed dates below (2031: a Monday 6 January, New York's spring-forward night of 9 March) must
// lie within the booking horizon, which the listing obeys: the test clock (this file's own D1) is
// moved to 2030-12-01 for the file.
beforeAll(async () => {
  // one move is at most 366 days: walk there
  for (let left = utc("2030-12-01T00:00") - Date.now(); left > 0; left -= 300 * DAY) {
    const advanceMs = Math.min(left, 300 * DAY);
    expect((await call("/v1/dev/clock", { body: { advanceMs } })).status).toBe(200);
  }
});
afterAll(async () => {
  await call("/v1/dev/clock", { body: { reset: true } });
});

describe("GET /v1/tutors/:id/slots", () => {
  it("interprets weekly ranges in the tutor's zone, DST-correct (New York 09:00 = 14:00Z in January, 13:00Z in July)", async () => {
    const t = await tutorWith("America/New_York", [{ weekday: 1, start: "09:00", end: "11:00" }]);
    const jan = await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-07T00:00"));
    expect(times(jan)).toEqual(["01-06T14:00", "01-06T14:15", "01-06T14:30", "01-06T14:45", "01-06T15:00"]);
    expect(jan.items.every((s) => s.endTime - s.startTime === HOUR)).toBe(true);
    expect(jan.nextCursor).toBeNull();
    const jul = await slots(t.profile.id, utc("2031-07-07T00:00"), utc("2031-07-08T00:00"), 120);
    expect(jul.items).toEqual([{ startTime: utc("2031-07-07T13:00"), endTime: utc("2031-07-07T15:00") }]);
  });

  it("skips the hour that does not exist on the spring-forward night", async () => {
    const t = await tutorWith("America/New_York", [{ weekday: 0, start: "01:00", end: "04:00" }]);
    const body = await slots(t.profile.id, utc("2031-03-09T00:00"), utc("2031-03-10T00:00"), 120);
    // 01:00 EST (06:00Z) to 04:00 EDT (08:00Z) is two real hours: exactly one 2-hour slot.
    expect(body.items).toEqual([{ startTime: utc("2031-03-09T06:00"), endTime: utc("2031-03-09T08:00") }]);
  });

  it("uses non-UTC zones with half-hour offsets (Asia/Kolkata)", async () => {
    const t = await tutorWith("Asia/Kolkata", [{ weekday: 1, start: "09:00", end: "10:00" }]);
    const body = await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-07T00:00"), 30);
    expect(times(body)).toEqual(["01-06T03:30", "01-06T03:45", "01-06T04:00"]);
  });

  it("joins 24:00 with the next day's 00:00 so a slot can span midnight", async () => {
    const t = await tutorWith("UTC", [
      { weekday: 1, start: "22:00", end: "24:00" },
      { weekday: 2, start: "00:00", end: "01:00" },
    ]);
    const long = await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-08T00:00"), 180);
    expect(long.items).toEqual([{ startTime: utc("2031-01-06T22:00"), endTime: utc("2031-01-07T01:00") }]);
    const hour = await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-08T00:00"));
    expect(times(hour)).toEqual([
      "01-06T22:00",
      "01-06T22:15",
      "01-06T22:30",
      "01-06T22:45",
      "01-06T23:00",
      "01-06T23:15",
      "01-06T23:30",
      "01-06T23:45",
      "01-07T00:00",
    ]);
  });

  it("excludes the tutor's non-cancelled sessions, including one that began before the range", async () => {
    const t = await tutorWith("UTC", [
      { weekday: 1, start: "00:00", end: "03:00" },
      { weekday: 1, start: "09:00", end: "13:00" },
    ]);
    const other = await tutorWith("UTC", allWeek);
    await insertSession(t.profile.id, utc("2031-01-05T23:00"), utc("2031-01-06T01:00"));
    await insertSession(t.profile.id, utc("2031-01-06T10:00"), utc("2031-01-06T11:00"), "in_progress");
    await insertSession(t.profile.id, utc("2031-01-06T11:00"), utc("2031-01-06T12:00"), "cancelled");
    await insertSession(other.profile.id, utc("2031-01-06T12:00"), utc("2031-01-06T13:00"));
    const body = await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-07T00:00"));
    expect(times(body)).toEqual([
      "01-06T01:00",
      "01-06T01:15",
      "01-06T01:30",
      "01-06T01:45",
      "01-06T02:00",
      "01-06T09:00",
      "01-06T11:00",
      "01-06T11:15",
      "01-06T11:30",
      "01-06T11:45",
      "01-06T12:00",
    ]);
  });

  it("keeps whole slots inside [from, to)", async () => {
    const t = await tutorWith("UTC", [{ weekday: 1, start: "09:00", end: "11:00" }]);
    const body = await slots(t.profile.id, utc("2031-01-06T09:20"), utc("2031-01-06T10:45"), 60);
    expect(times(body)).toEqual(["01-06T09:30", "01-06T09:45"]);
  });

  it("starts no earlier than now + BOOKING_MIN_NOTICE_MINUTES", async () => {
    const notice = getConfig(env).BOOKING_MIN_NOTICE_MINUTES * MIN;
    const t = await tutorWith("UTC", allWeek);
    const from = Math.floor((await serverNow()) / DAY) * DAY;
    const before = await serverNow();
    const body = await slots(t.profile.id, from, from + 2 * DAY, 30);
    const after = await serverNow();
    const first = body.items[0]?.startTime ?? Number.NaN;
    expect(first).toBeGreaterThanOrEqual(before + notice);
    expect(first).toBeLessThanOrEqual(after + notice + 15 * MIN);
    expect(first % (15 * MIN)).toBe(0);
    expect(body.items.at(-1)?.endTime).toBe(from + 2 * DAY);
    // Entirely in the past: nothing.
    expect((await slots(t.profile.id, from - 3 * DAY, from - 2 * DAY)).items).toEqual([]);
  });

  it("is empty for a tutor without availability and 404 for an unknown tutor", async () => {
    const t = await createTutor({ subjectIds: [(await insertSubject()).id] });
    expect(await slots(t.profile.id, utc("2031-01-06T00:00"), utc("2031-01-07T00:00"))).toEqual({
      items: [],
      nextCursor: null,
    });
    await expectProblem(
      await call(`/v1/tutors/tut_missing/slots?from=${utc("2031-01-06T00:00")}&to=${utc("2031-01-07T00:00")}`),
      404,
      "not_found",
    );
  });

  it("limits the range to 31 days and requires to > from", async () => {
    const t = await tutorWith("UTC", [{ weekday: 1, start: "09:00", end: "10:00" }]);
    const from = utc("2031-01-01T00:00");
    const ok = await slots(t.profile.id, from, from + 31 * DAY);
    expect(ok.items.map((s) => new Date(s.startTime).getUTCDay())).toEqual([1, 1, 1, 1]);
    const tooLong = await call(`/v1/tutors/${t.profile.id}/slots?from=${from}&to=${from + 31 * DAY + 1}`);
    expect((await expectProblem(tooLong, 400, "validation_failed")).errors).toContainEqual({
      path: "to",
      message: expect.any(String),
    });
    for (const to of [from, from - 1]) {
      const res = await call(`/v1/tutors/${t.profile.id}/slots?from=${from}&to=${to}`);
      expect((await expectProblem(res, 400, "validation_failed")).errors).toContainEqual({
        path: "to",
        message: expect.any(String),
      });
    }
  });

  it("rejects bad query values with 400", async () => {
    const t = await tutorWith("UTC", allWeek);
    const base = `/v1/tutors/${t.profile.id}/slots`;
    const from = utc("2031-01-06T00:00");
    const to = from + DAY;
    const cases: [string, string][] = [
      [`?to=${to}`, "from"],
      [`?from=${from}`, "to"],
      [`?from=abc&to=${to}`, "from"],
      [`?from=${from}.5&to=${to}`, "from"],
      [`?from=-5&to=${to}`, "from"],
      [`?from=${from}&to=${to}&durationMinutes=20`, "durationMinutes"],
      [`?from=${from}&to=${to}&durationMinutes=50`, "durationMinutes"],
      [`?from=${from}&to=${to}&durationMinutes=195`, "durationMinutes"],
      [`?from=${from}&to=${to}&durationMinutes=15`, "durationMinutes"],
      [`?from=${from}&to=${to}&durationMinutes=sixty`, "durationMinutes"],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await call(`${base}${query}`), 400, "validation_failed");
      expect(problem.errors, query).toContainEqual({ path, message: expect.any(String) });
    }
    for (const minutes of [30, 45, 180]) {
      const body = await slots(t.profile.id, from, to, minutes);
      expect(body.items[0]).toEqual({ startTime: from, endTime: from + minutes * MIN });
    }
  });
});
