import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, createUser, env, eventually, expectProblem, fakeRequests, json } from "../helpers/api";
import { moveClockTo, resetClock } from "../helpers/clock";
import { balanceOf } from "../sessions/helpers";
import { bookAt, bookSeriesAt, MIN, utc, world } from "./world";

interface Session {
  id: string;
  startTime: number;
  endTime: number;
  status: string;
  seriesId: string | null;
  creditsCost: number;
  refundedCredits: number;
}
interface Series {
  seriesId: string;
  sessions: Session[];
}
interface Problem {
  code: string;
  errors?: { path: string; message: string }[];
}

const WEEK = 7 * 24 * 60 * MIN;

// Fixed dates: New York leaves DST on Sunday 2 November 2031. "Now" is moved to 1 September 2031.
beforeAll(() => moveClockTo(utc("2031-09-01T00:00")));
afterAll(resetClock);

const localTime = (ms: number, timeZone: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit" }).format(ms);

async function countRows(sql: string, ...binds: unknown[]) {
  return (
    (
      await env.DB.prepare(sql)
        .bind(...binds)
        .first<{ n: number }>()
    )?.n ?? 0
  );
}

describe("POST /v1/sessions/series", () => {
  it("books 12 weekly lessons at 17:00 New York time across the November DST change, in one debit step", async () => {
    const w = await world({ timezone: "America/New_York" });
    const [student] = w.students;
    if (!student) throw new Error("no student");
    const first = utc("2031-10-06T21:00"); // Monday 17:00 EDT
    const res = await bookSeriesAt(w, student, first, 12);
    expect(res.status).toBe(201);
    const body = await json<Series>(res);
    expect(body.sessions).toHaveLength(12);
    for (const s of body.sessions) {
      expect(localTime(s.startTime, "America/New_York")).toBe("Mon 17:00");
      expect(s).toMatchObject({ status: "scheduled", seriesId: body.seriesId, creditsCost: 2 });
      expect(s.endTime - s.startTime).toBe(60 * MIN);
    }
    // 21:00Z while EDT (until 2 November), 22:00Z once EST
    expect(body.sessions[3]?.startTime).toBe(utc("2031-10-27T21:00"));
    expect(body.sessions[4]?.startTime).toBe(utc("2031-11-03T22:00"));
    expect(body.sessions[4]?.startTime).toBe(first + 4 * WEEK + 60 * MIN);
    expect(await balanceOf(student.token)).toBe(100 - 24);
    expect(
      await countRows(
        "SELECT COUNT(*) AS n FROM creditsLedger WHERE userId = ? AND source = 'session_booking'",
        student.id,
      ),
    ).toBe(12);
    // each occurrence is an ordinary session: the student sees it, it has its own room
    const one = await call(`/v1/sessions/${body.sessions[7]?.id}`, { token: student.token });
    expect(one.status).toBe(200);
    // one summary e-mail to each participant, not 12
    for (const u of [student, w.tutor]) {
      const mails = await eventually(async () => {
        const m = await fakeRequests("/emails", u.email);
        return m.length > 0 ? m : undefined;
      });
      expect(mails).toHaveLength(1);
      expect(JSON.parse(mails[0]?.body ?? "{}").subject).toBe("12 weekly sessions scheduled");
      const n = await json<{ items: { type: string }[] }>(await call("/v1/notifications", { token: u.token }));
      expect(n.items.filter((i) => i.type === "series_scheduled")).toHaveLength(1);
      expect(n.items.filter((i) => i.type === "session_scheduled")).toHaveLength(0);
    }
  });

  it("books nothing when occurrence 3 collides, and names it (409)", async () => {
    const w = await world({ students: 2 });
    const [student, other] = w.students;
    if (!student || !other) throw new Error("no students");
    const first = utc("2031-10-07T10:00");
    expect((await bookAt(w, other, first + 2 * WEEK + 30 * MIN)).status).toBe(201);
    const res = await bookSeriesAt(w, student, first, 6);
    const problem = await expectProblem(res, 409, "slot_unavailable");
    expect((problem as unknown as Problem).errors?.map((e) => e.path)).toEqual(["occurrences[2]"]);
    expect((problem as unknown as Problem).errors?.[0]?.message).toContain("2031-10-21 10:00");
    expect(await balanceOf(student.token)).toBe(100);
    expect(
      await countRows("SELECT COUNT(*) AS n FROM sessions WHERE studentProfileId = ?", student.studentProfileId),
    ).toBe(0);
  });

  it("names every unavailable occurrence: time off, another lesson of the student, the horizon", async () => {
    const w = await world({ rules: { horizonDays: 60 } });
    const [student] = w.students;
    if (!student) throw new Error("no student");
    const first = utc("2031-09-03T10:00");
    const off = await call("/v1/me/tutor-profile/time-off", {
      token: w.tutor.token,
      body: { startTime: first + WEEK - 60 * MIN, endTime: first + WEEK + 120 * MIN, note: "Dentist" },
    });
    expect(off.status).toBe(201);
    const res = await bookSeriesAt(w, student, first, 12);
    const problem = (await expectProblem(res, 409, "slot_unavailable")) as unknown as Problem;
    // week 2 (time off); weeks 10-12 are beyond 60 days from 1 September
    expect(problem.errors?.map((e) => e.path)).toEqual([
      "occurrences[1]",
      "occurrences[9]",
      "occurrences[10]",
      "occurrences[11]",
    ]);
    expect(problem.errors?.[0]?.message).toMatch(/away/);
    expect(problem.errors?.[1]?.message).toMatch(/60 days/);
  });

  it("is 402 when the balance does not cover every occurrence, and books none", async () => {
    const w = await world({ credits: 7 }); // 4 lessons × 2 credits = 8
    const [student] = w.students;
    if (!student) throw new Error("no student");
    await expectProblem(await bookSeriesAt(w, student, utc("2031-10-08T10:00"), 4), 402, "insufficient_credits");
    expect(await balanceOf(student.token)).toBe(7);
    expect(
      await countRows("SELECT COUNT(*) AS n FROM sessions WHERE studentProfileId = ?", student.studentProfileId),
    ).toBe(0);
    expect(
      await countRows("SELECT COUNT(*) AS n FROM sessionSeries WHERE studentProfileId = ?", student.studentProfileId),
    ).toBe(0);
  });

  it("racing a single booking of one of its slots: exactly one wins, never a partial series", async () => {
    for (let round = 0; round < 4; round++) {
      const w = await world({ students: 2 });
      const [student, rival] = w.students;
      if (!student || !rival) throw new Error("no students");
      const first = utc("2031-10-09T10:00");
      const [series, single] = await Promise.all([
        bookSeriesAt(w, student, first, 8),
        bookAt(w, rival, first + 5 * WEEK),
      ]);
      expect([series.status, single.status].filter((s) => s === 201)).toHaveLength(1);
      const seriesRows = await countRows(
        "SELECT COUNT(*) AS n FROM sessions WHERE studentProfileId = ? AND status != 'cancelled'",
        student.studentProfileId,
      );
      if (series.status === 201) {
        expect(seriesRows).toBe(8);
        expect(await balanceOf(student.token)).toBe(100 - 16);
        await expectProblem(single, 409, "slot_unavailable");
      } else {
        expect(series.status).toBe(409);
        expect(seriesRows).toBe(0);
        expect(await balanceOf(student.token)).toBe(100);
      }
    }
  });

  it("replays under the same Idempotency-Key (one series, one debit per lesson)", async () => {
    const w = await world();
    const [student] = w.students;
    if (!student) throw new Error("no student");
    const headers = { "idempotency-key": `series-${crypto.randomUUID()}` };
    const a = await bookSeriesAt(w, student, utc("2031-10-10T10:00"), 3, { headers });
    const b = await bookSeriesAt(w, student, utc("2031-10-10T10:00"), 3, { headers });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect((await json<Series>(b)).seriesId).toBe((await json<Series>(a)).seriesId);
    expect(await balanceOf(student.token)).toBe(94);
    const c = await bookSeriesAt(w, student, utc("2031-10-10T12:00"), 3, { headers });
    await expectProblem(c, 422, "idempotency_conflict");
  });

  it("validates count (2–12), the 15-minute boundary and unknown fields (400); tutors and anonymous cannot book", async () => {
    const w = await world();
    const [student] = w.students;
    if (!student) throw new Error("no student");
    for (const count of [1, 13, 2.5]) {
      await expectProblem(await bookSeriesAt(w, student, utc("2031-10-10T10:00"), count), 400, "validation_failed");
    }
    await expectProblem(await bookSeriesAt(w, student, utc("2031-10-10T10:05"), 3), 400, "validation_failed");
    const extra = await call("/v1/sessions/series", {
      token: student.token,
      body: {
        tutorProfileId: w.tutor.tutorProfileId,
        subjectId: w.subjectId,
        startTime: utc("2031-10-10T10:00"),
        durationMinutes: 60,
        count: 2,
        creditsCost: 0,
      },
    });
    await expectProblem(extra, 400, "validation_failed");
    await expectProblem(
      await bookSeriesAt(w, { ...student, token: w.tutor.token }, utc("2031-10-10T10:00"), 2),
      403,
      "forbidden",
    );
    const anon = await call("/v1/sessions/series", { body: {} });
    await expectProblem(anon, 401, "unauthorized");
  });
});

describe("POST /v1/sessions/series/:id/cancel", () => {
  it("cancels every future scheduled occurrence under the single-session policy, with one summary e-mail", async () => {
    const w = await world({ students: 2 });
    const [student, stranger] = w.students;
    if (!student || !stranger) throw new Error("no students");
    const res = await bookSeriesAt(w, student, utc("2031-10-13T10:00"), 4);
    const series = await json<Series>(res);
    const [, second] = series.sessions;
    // one occurrence already cancelled on its own: the series cancels the 3 others
    expect((await call(`/v1/sessions/${second?.id}/cancel`, { method: "POST", token: student.token })).status).toBe(
      200,
    );
    const otherTutor = await createUser("tutor");
    for (const token of [stranger.token, otherTutor.token]) {
      await expectProblem(
        await call(`/v1/sessions/series/${series.seriesId}/cancel`, { method: "POST", token }),
        404,
        "not_found",
      );
    }
    await expectProblem(
      await call(`/v1/sessions/series/${series.seriesId}/cancel`, { method: "POST" }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await call("/v1/sessions/series/ser_nope/cancel", { method: "POST", token: student.token }),
      404,
      "not_found",
    );
    const cancel = await call(`/v1/sessions/series/${series.seriesId}/cancel`, {
      method: "POST",
      token: w.tutor.token,
      body: { reason: "Moving away" },
    });
    expect(cancel.status).toBe(200);
    const after = await json<{ sessions: Session[] }>(cancel);
    expect(after.sessions.map((s) => s.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(after.sessions.every((s) => s.refundedCredits === 2)).toBe(true); // the tutor cancels: refunded
    expect(await balanceOf(student.token)).toBe(100);
    const subjects = await eventually(async () => {
      const all = (await fakeRequests("/emails", student.email)).map((m) => JSON.parse(m.body).subject as string);
      return all.includes("3 weekly sessions cancelled") && all.includes("Session cancelled") ? all : undefined;
    });
    // the summary, and only the occurrence cancelled on its own had its own mail
    expect(subjects.filter((t) => t === "3 weekly sessions cancelled")).toHaveLength(1);
    expect(subjects.filter((t) => t === "Session cancelled")).toHaveLength(1);
    // nothing left: idempotent by state
    await expectProblem(
      await call(`/v1/sessions/series/${series.seriesId}/cancel`, { method: "POST", token: student.token }),
      409,
      "conflict",
    );
  });

  it("lets an admin cancel a student's series", async () => {
    const w = await world();
    const [student] = w.students;
    if (!student) throw new Error("no student");
    const series = await json<Series>(await bookSeriesAt(w, student, utc("2031-10-14T10:00"), 2));
    const admin = await createUser("admin");
    const res = await call(`/v1/sessions/series/${series.seriesId}/cancel`, { method: "POST", token: admin.token });
    expect(res.status).toBe(200);
    expect((await json<{ sessions: Session[] }>(res)).sessions.every((s) => s.status === "cancelled")).toBe(true);
  });
});
