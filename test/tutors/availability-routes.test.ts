import { describe, expect, it } from "vitest";
import { call, createUser, env, expectProblem, json, tokenFor } from "../helpers/api";
import { createTutor, insertSubject } from "./fixtures";

const path = "/v1/me/tutor-profile/availability";

async function tutor() {
  return createTutor({ subjectIds: [(await insertSubject()).id] });
}

describe("PUT /v1/me/tutor-profile/availability", () => {
  it("stores the availability (200), sorted, and GET returns it", async () => {
    const t = await tutor();
    const weekly = [
      { weekday: 2, start: "13:00", end: "17:30" },
      { weekday: 1, start: "20:00", end: "24:00" },
      { weekday: 2, start: "00:00", end: "02:00" },
      { weekday: 1, start: "09:00", end: "12:00" },
    ];
    const res = await call(path, { method: "PUT", token: t.token, body: { timezone: "America/New_York", weekly } });
    expect(res.status).toBe(200);
    const stored = {
      timezone: "America/New_York",
      weekly: [
        { weekday: 1, start: "09:00", end: "12:00" },
        { weekday: 1, start: "20:00", end: "24:00" },
        { weekday: 2, start: "00:00", end: "02:00" },
        { weekday: 2, start: "13:00", end: "17:30" },
      ],
    };
    expect(await json(res)).toEqual(stored);
    expect(await json(await call(path, { token: t.token }))).toEqual(stored);
    const profile = await json<{ timezone: string }>(await call("/v1/me/tutor-profile", { token: t.token }));
    expect(profile.timezone).toBe("America/New_York");
  });

  it("replaces the previous availability", async () => {
    const t = await tutor();
    const first = [0, 1, 2, 3].map((weekday) => ({ weekday, start: "08:00", end: "10:00" }));
    expect((await call(path, { method: "PUT", token: t.token, body: { timezone: "UTC", weekly: first } })).status).toBe(
      200,
    );
    const second = { timezone: "Asia/Kolkata", weekly: [{ weekday: 5, start: "10:15", end: "11:45" }] };
    const res = await call(path, { method: "PUT", token: t.token, body: second });
    expect(await json(res)).toEqual(second);
    const rows = await env.DB.prepare(
      "SELECT weekday, start, end, timezone FROM tutorAvailability WHERE tutorProfileId = ?",
    )
      .bind(t.profile.id)
      .all();
    expect(rows.results).toEqual([{ weekday: 5, start: 615, end: 705, timezone: "Asia/Kolkata" }]);
    const cleared = await call(path, { method: "PUT", token: t.token, body: { timezone: "UTC", weekly: [] } });
    expect(await json(cleared)).toEqual({ timezone: "UTC", weekly: [] });
  });

  it("GET answers a tutor without availability yet with an empty schedule", async () => {
    const t = await tutor();
    expect(await json(await call(path, { token: t.token }))).toEqual({ timezone: null, weekly: [] });
  });

  it("rejects overlapping, inverted and malformed ranges with 400 and field errors, keeping the old one", async () => {
    const t = await tutor();
    const kept = { timezone: "UTC", weekly: [{ weekday: 3, start: "09:00", end: "10:00" }] };
    expect((await call(path, { method: "PUT", token: t.token, body: kept })).status).toBe(200);
    const cases: [unknown[], { path: string; message: string }][] = [
      [
        [
          { weekday: 1, start: "09:00", end: "12:00" },
          { weekday: 1, start: "11:00", end: "13:00" },
        ],
        { path: "weekly.1", message: "overlaps weekly.0" },
      ],
      [[{ weekday: 1, start: "12:00", end: "09:00" }], { path: "weekly.0.end", message: "end must be after start" }],
      [[{ weekday: 1, start: "09:00", end: "09:00" }], { path: "weekly.0.end", message: "end must be after start" }],
      [[{ weekday: 1, start: "24:00", end: "24:00" }], { path: "weekly.0.end", message: "end must be after start" }],
      [[{ weekday: 1, start: "9:00", end: "10:00" }], { path: "weekly.0.start", message: expect.any(String) }],
      [[{ weekday: 1, start: "09:00", end: "24:30" }], { path: "weekly.0.end", message: expect.any(String) }],
      [[{ weekday: 7, start: "09:00", end: "10:00" }], { path: "weekly.0.weekday", message: expect.any(String) }],
      [[{ weekday: 1, start: "09:00" }], { path: "weekly.0.end", message: expect.any(String) }],
      [[{ weekday: 1, start: "09:00", end: "10:00", note: "x" }], { path: "weekly.0.note", message: "Unknown field" }],
    ];
    for (const [weekly, error] of cases) {
      const res = await call(path, { method: "PUT", token: t.token, body: { timezone: "UTC", weekly } });
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(problem.errors, JSON.stringify(weekly)).toContainEqual(error);
    }
    expect(await json(await call(path, { token: t.token }))).toEqual(kept);
  });

  it("rejects an unknown time zone and unknown fields with 400", async () => {
    const t = await tutor();
    const weekly = [{ weekday: 1, start: "09:00", end: "10:00" }];
    for (const timezone of ["Mars/Olympus_Mons", "", "EST5EDT!", "+05:30"]) {
      const res = await call(path, { method: "PUT", token: t.token, body: { timezone, weekly } });
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(problem.errors, timezone).toContainEqual({ path: "timezone", message: expect.any(String) });
    }
    const extra = await call(path, {
      method: "PUT",
      token: t.token,
      body: { timezone: "UTC", weekly, tutorProfileId: "x" },
    });
    expect((await expectProblem(extra, 400, "validation_failed")).errors).toEqual([
      { path: "tutorProfileId", message: "Unknown field" },
    ]);
    const missing = await call(path, { method: "PUT", token: t.token, body: { weekly } });
    expect((await expectProblem(missing, 400, "validation_failed")).errors).toContainEqual({
      path: "timezone",
      message: expect.any(String),
    });
  });

  it("is 401 anonymous, 403 for a student, 404 for a tutor token without a profile", async () => {
    const body = { timezone: "UTC", weekly: [] };
    await expectProblem(await call(path, { method: "PUT", body }), 401, "unauthorized");
    await expectProblem(await call(path), 401, "unauthorized");
    const student = await createUser("student");
    await expectProblem(await call(path, { method: "PUT", token: student.token, body }), 403, "forbidden");
    await expectProblem(await call(path, { token: student.token }), 403, "forbidden");
    const token = await tokenFor(student.id, "tutor");
    await expectProblem(await call(path, { method: "PUT", token, body }), 404, "not_found");
    await expectProblem(await call(path, { token }), 404, "not_found");
  });
});
