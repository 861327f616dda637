import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { call, createUser, env, expectProblem, json } from "../helpers/api";
import { moveClockTo, resetClock, serverNow } from "../helpers/clock";
import { bookAt, MIN, putRules, rules, utc, type World, world } from "./world";

// Fixed dates: "now" is 1 September 2031. New York leaves DST on 2 November 2031 (a 25-hour local
// day) and enters it on 14 March 2032 (a 23-hour local day).
beforeAll(() => moveClockTo(utc("2031-09-01T00:00")));
afterAll(resetClock);

const HOUR = 60 * MIN;

async function slotStarts(w: World, from: number, to: number, durationMinutes = 60) {
  const res = await call(
    `/v1/tutors/${w.tutor.tutorProfileId}/slots?from=${from}&to=${to}&durationMinutes=${durationMinutes}`,
  );
  expect(res.status).toBe(200);
  return (await json<{ items: { startTime: number }[] }>(res)).items.map((s) => s.startTime);
}

async function status(res: Promise<Response>) {
  return (await res).status;
}

describe("booking rules", () => {
  it("GET returns the defaults until set; PUT validates and replaces; only tutors", async () => {
    const w = await world();
    const fresh = await createUser("tutor");
    const own = await call("/v1/me/tutor-profile/booking-rules", { token: w.tutor.token });
    expect(await json(own)).toEqual(rules());
    const t2 = await world({ rules: {} });
    await env.DB.prepare("DELETE FROM tutorBookingRules WHERE tutorProfileId = ?").bind(t2.tutor.tutorProfileId).run();
    expect(await json(await call("/v1/me/tutor-profile/booking-rules", { token: t2.tutor.token }))).toEqual({
      minNoticeMinutes: getConfig(env).BOOKING_MIN_NOTICE_MINUTES,
      bufferBeforeMinutes: 0,
      bufferAfterMinutes: 0,
      maxSessionsPerDay: null,
      horizonDays: 90,
    });
    const put = (body: unknown, token = w.tutor.token) =>
      call("/v1/me/tutor-profile/booking-rules", { method: "PUT", token, body });
    for (const bad of [
      rules({ minNoticeMinutes: 10081 }),
      rules({ bufferBeforeMinutes: 10 }),
      rules({ bufferAfterMinutes: 135 }),
      rules({ maxSessionsPerDay: 0 }),
      rules({ maxSessionsPerDay: 25 }),
      rules({ horizonDays: 0 }),
      rules({ horizonDays: 366 }),
      { ...rules(), extra: 1 },
      { minNoticeMinutes: 0 },
    ]) {
      await expectProblem(await put(bad), 400, "validation_failed");
    }
    expect((await put(rules({ bufferBeforeMinutes: 15, maxSessionsPerDay: 3 }))).status).toBe(200);
    expect(await json(await call("/v1/me/tutor-profile/booking-rules", { token: w.tutor.token }))).toMatchObject({
      bufferBeforeMinutes: 15,
      maxSessionsPerDay: 3,
    });
    await expectProblem(await put(rules(), w.students[0]?.token), 403, "forbidden");
    await expectProblem(await put(rules(), fresh.token), 404, "not_found"); // a tutor token without a profile
    await expectProblem(await call("/v1/me/tutor-profile/booking-rules"), 401, "unauthorized");
  });

  it("keeps the buffers at both ends of every session (slots and booking agree)", async () => {
    const w = await world({ rules: { bufferBeforeMinutes: 15, bufferAfterMinutes: 30 }, students: 2 });
    const [a, b] = w.students;
    if (!a || !b) throw new Error("no students");
    const ten = utc("2031-09-10T10:00");
    expect(await status(bookAt(w, a, ten))).toBe(201);
    // 45 minutes (15 + 30) between the end of one session and the start of the next, either way
    const starts = await slotStarts(w, utc("2031-09-10T07:00"), utc("2031-09-10T14:00"));
    expect(starts).not.toContain(ten - HOUR - 30 * MIN); // ends 09:30: 30 min before
    expect(starts).toContain(ten - HOUR - 45 * MIN); // ends 09:15
    expect(starts).not.toContain(ten + HOUR + 30 * MIN); // starts 11:30
    expect(starts).toContain(ten + HOUR + 45 * MIN); // starts 11:45
    await expectProblem(await bookAt(w, b, ten - HOUR - 30 * MIN), 409, "slot_unavailable");
    await expectProblem(await bookAt(w, b, ten + HOUR + 30 * MIN), 409, "slot_unavailable");
    expect(await status(bookAt(w, b, ten + HOUR + 45 * MIN))).toBe(201);
    expect(await status(bookAt(w, b, ten - HOUR - 45 * MIN))).toBe(201);
  });

  it("obeys minimum notice and the horizon", async () => {
    const w = await world({ rules: { minNoticeMinutes: 180, horizonDays: 10 } });
    const [a] = w.students;
    if (!a) throw new Error("no student");
    const q = 15 * MIN;
    const now = await serverNow();
    const starts = await slotStarts(w, now, now + 6 * HOUR);
    expect(starts[0]).toBe(Math.ceil((now + 3 * HOUR) / q) * q);
    await expectProblem(await bookAt(w, a, Math.ceil((now + 2 * HOUR) / q) * q), 409, "slot_unavailable");
    expect(await slotStarts(w, now + 11 * 24 * HOUR, now + 12 * 24 * HOUR)).toEqual([]);
    const late = await bookAt(w, a, Math.ceil((now + 11 * 24 * HOUR) / q) * q);
    expect((await expectProblem(late, 409, "slot_unavailable")).detail).toMatch(/10 days/);
  });

  it("counts the daily cap on New York's 23-hour spring-forward day", async () => {
    const w = await world({ timezone: "America/New_York", rules: { maxSessionsPerDay: 2 }, students: 4 });
    const [a, b, c, d] = w.students;
    if (!a || !b || !c || !d) throw new Error("no students");
    // Sunday 14 March 2032 runs from 05:00Z (00:00 EST) to 04:00Z on the 15th (00:00 EDT)
    expect(await status(bookAt(w, a, utc("2032-03-14T06:00")))).toBe(201); // 01:00 EST
    expect(await status(bookAt(w, b, utc("2032-03-15T02:45")))).toBe(201); // 22:45 EDT, still the 14th
    const refused = await bookAt(w, c, utc("2032-03-14T16:00"));
    expect((await expectProblem(refused, 409, "slot_unavailable")).detail).toMatch(/at most 2 sessions a day/);
    expect(await slotStarts(w, utc("2032-03-14T05:00"), utc("2032-03-15T04:00"))).toEqual([]);
    // 04:00Z on the 15th is midnight EDT: the next local day
    expect(await slotStarts(w, utc("2032-03-15T04:00"), utc("2032-03-15T05:00"))).toEqual([utc("2032-03-15T04:00")]);
    expect(await status(bookAt(w, d, utc("2032-03-15T04:00")))).toBe(201);
  });

  it("counts the daily cap on New York's 25-hour fall-back day", async () => {
    const w = await world({ timezone: "America/New_York", rules: { maxSessionsPerDay: 2 }, students: 4 });
    const [a, b, c, d] = w.students;
    if (!a || !b || !c || !d) throw new Error("no students");
    // Sunday 2 November 2031 runs from 04:00Z (00:00 EDT) to 05:00Z on the 3rd (00:00 EST)
    expect(await status(bookAt(w, a, utc("2031-11-02T04:00")))).toBe(201); // 00:00 EDT
    expect(await status(bookAt(w, b, utc("2031-11-03T03:45")))).toBe(201); // 22:45 EST, still the 2nd
    await expectProblem(await bookAt(w, c, utc("2031-11-02T17:00")), 409, "slot_unavailable");
    expect(await slotStarts(w, utc("2031-11-02T04:00"), utc("2031-11-03T05:00"))).toEqual([]);
    expect(await status(bookAt(w, d, utc("2031-11-03T05:00")))).toBe(201); // 00:00 EST on the 3rd
  });

  it("counts the daily cap in the tutor's day, not the UTC day (Tokyo, across midnight UTC)", async () => {
    const w = await world({ timezone: "Asia/Tokyo", rules: { maxSessionsPerDay: 1 }, students: 3 });
    const [a, b, c] = w.students;
    if (!a || !b || !c) throw new Error("no students");
    // Friday 10 October 2031 in Tokyo is 9 October 15:00Z to 10 October 15:00Z
    expect(await status(bookAt(w, a, utc("2031-10-09T20:00")))).toBe(201); // 05:00 JST on the 10th
    await expectProblem(await bookAt(w, b, utc("2031-10-10T10:00")), 409, "slot_unavailable"); // 19:00 JST, same day
    expect(await status(bookAt(w, c, utc("2031-10-10T15:00")))).toBe(201); // 00:00 JST on the 11th
  });

  it("lets exactly one of two concurrent bookings take the last place of a day", async () => {
    for (let round = 0; round < 5; round++) {
      const w = await world({ rules: { maxSessionsPerDay: 1 }, students: 2 });
      const [a, b] = w.students;
      if (!a || !b) throw new Error("no students");
      const day = utc(`2031-09-${String(15 + round).padStart(2, "0")}T00:00`);
      const results = await Promise.all([bookAt(w, a, day + 9 * HOUR), bookAt(w, b, day + 15 * HOUR)]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const n = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM sessions WHERE tutorProfileId = ? AND status != 'cancelled'",
      )
        .bind(w.tutor.tutorProfileId)
        .first<{ n: number }>();
      expect(n?.n).toBe(1);
    }
  });

  it("lets exactly one of two concurrent bookings take times that only the buffers separate", async () => {
    for (let round = 0; round < 5; round++) {
      const w = await world({ rules: { bufferAfterMinutes: 30 }, students: 2 });
      const [a, b] = w.students;
      if (!a || !b) throw new Error("no students");
      const t = utc(`2031-09-${String(20 + round).padStart(2, "0")}T09:00`);
      const results = await Promise.all([bookAt(w, a, t), bookAt(w, b, t + HOUR + 15 * MIN)]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    }
  });

  it("applies the rules to a reschedule (the session itself left out)", async () => {
    const w = await world({ rules: { maxSessionsPerDay: 1, bufferBeforeMinutes: 30 }, students: 2 });
    const [a, b] = w.students;
    if (!a || !b) throw new Error("no students");
    const mine = await json<{ id: string }>(await bookAt(w, a, utc("2031-09-12T09:00")));
    expect(await status(bookAt(w, b, utc("2031-09-13T09:00")))).toBe(201);
    const move = (startTime: number) =>
      call(`/v1/sessions/${mine.id}/reschedule`, { token: a.token, body: { startTime } });
    // same day, later: its own place in the cap does not count against it
    expect(await status(move(utc("2031-09-12T14:00")))).toBe(200);
    // next day: the cap is taken there
    await expectProblem(await move(utc("2031-09-13T15:00")), 409, "slot_unavailable");
    await putRules(w.tutor, rules({ bufferBeforeMinutes: 30 }));
    // within 30 minutes of the other session
    await expectProblem(await move(utc("2031-09-13T10:15")), 409, "slot_unavailable");
    expect(await status(move(utc("2031-09-13T10:30")))).toBe(200);
  });
});

describe("time off", () => {
  it("blocks slots and bookings, lists the sessions already inside it, and can be removed", async () => {
    const w = await world({ students: 2 });
    const [a, b] = w.students;
    if (!a || !b) throw new Error("no students");
    const booked = await json<{ id: string }>(await bookAt(w, a, utc("2031-09-16T10:00")));
    const res = await call("/v1/me/tutor-profile/time-off", {
      token: w.tutor.token,
      body: { startTime: utc("2031-09-16T09:00"), endTime: utc("2031-09-16T13:00"), note: "Conference" },
    });
    expect(res.status).toBe(201);
    const off = await json<{ id: string; conflictingSessionIds: string[]; note: string }>(res);
    expect(off).toMatchObject({ conflictingSessionIds: [booked.id], note: "Conference" });
    // the booked session stays
    expect((await json<{ status: string }>(await call(`/v1/sessions/${booked.id}`, { token: a.token }))).status).toBe(
      "scheduled",
    );
    const starts = await slotStarts(w, utc("2031-09-16T07:00"), utc("2031-09-16T15:00"));
    expect(starts.filter((t) => t > utc("2031-09-16T08:00") && t < utc("2031-09-16T13:00"))).toEqual([]);
    expect(starts).toContain(utc("2031-09-16T08:00"));
    expect(starts).toContain(utc("2031-09-16T13:00"));
    await expectProblem(await bookAt(w, b, utc("2031-09-16T12:30")), 409, "slot_unavailable");
    const list = await json<{ items: { id: string }[] }>(
      await call("/v1/me/tutor-profile/time-off", { token: w.tutor.token }),
    );
    expect(list.items.map((i) => i.id)).toEqual([off.id]);
    // another tutor cannot remove it (404), the owner can (204)
    const other = await world();
    const del = (token: string) => call(`/v1/me/tutor-profile/time-off/${off.id}`, { method: "DELETE", token });
    await expectProblem(await del(other.tutor.token), 404, "not_found");
    expect((await del(w.tutor.token)).status).toBe(204);
    await expectProblem(await del(w.tutor.token), 404, "not_found");
    expect(await status(bookAt(w, b, utc("2031-09-16T12:30")))).toBe(201);
  });

  it("validates the span (end after start, at most 90 days, not over) and who may call", async () => {
    const w = await world();
    const post = (body: unknown, token = w.tutor.token) => call("/v1/me/tutor-profile/time-off", { token, body });
    const t = utc("2031-09-20T00:00");
    for (const bad of [
      { startTime: t, endTime: t },
      { startTime: t, endTime: t + 91 * 24 * HOUR },
      { startTime: t, endTime: t + HOUR, note: "x".repeat(501) },
      { startTime: t, endTime: t + HOUR, extra: true },
      { startTime: utc("2031-08-01T00:00"), endTime: utc("2031-08-02T00:00") },
    ]) {
      await expectProblem(await post(bad), 400, "validation_failed");
    }
    await expectProblem(await post({ startTime: t, endTime: t + HOUR }, w.students[0]?.token), 403, "forbidden");
    const anonymous = await call("/v1/me/tutor-profile/time-off", { body: { startTime: t, endTime: t + HOUR } });
    await expectProblem(anonymous, 401, "unauthorized");
    expect((await post({ startTime: t, endTime: t + 90 * 24 * HOUR })).status).toBe(201);
  });
});

describe("time off limits", () => {
  it("holds at most 200 current and future time offs (409 beyond)", async () => {
    const w = await world();
    const t = utc("2031-10-01T00:00");
    const rows = Array.from({ length: 199 }, (_, i) =>
      env.DB.prepare(
        "INSERT INTO tutorTimeOff (id, tutorProfileId, startTime, endTime, note, createdAt) VALUES (?, ?, ?, ?, NULL, 0)",
      ).bind(`tof_${crypto.randomUUID()}`, w.tutor.tutorProfileId, t + i * HOUR, t + i * HOUR + 30 * MIN),
    );
    await env.DB.batch(rows);
    const post = () =>
      call("/v1/me/tutor-profile/time-off", {
        token: w.tutor.token,
        body: { startTime: utc("2031-12-01T00:00"), endTime: utc("2031-12-02T00:00") },
      });
    expect((await post()).status).toBe(201);
    await expectProblem(await post(), 409, "conflict");
  });
});
