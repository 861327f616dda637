/** A scheduling world at fixed dates: a tutor in a zone, with rules, and funded students. */
import type { BookingRules } from "../../src/modules/tutors/booking-rules";
import { call, createUser, type TestUser } from "../helpers/api";
import { createSubject, createTutor, fund, type Tutor } from "../sessions/helpers";

export const MIN = 60_000;
export const utc = (iso: string) => Date.parse(`${iso}:00Z`);

export const rules = (r: Partial<BookingRules> = {}): BookingRules => ({
  minNoticeMinutes: 0,
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 0,
  maxSessionsPerDay: null,
  horizonDays: 365,
  ...r,
});

export async function putRules(tutor: Tutor, r: BookingRules) {
  const res = await call("/v1/me/tutor-profile/booking-rules", { method: "PUT", token: tutor.token, body: r });
  if (res.status !== 200) throw new Error(`rules: ${res.status} ${await res.text()}`);
}

export interface World {
  subjectId: string;
  tutor: Tutor;
  students: TestUser[];
}

/** A tutor available all week in `timezone` (price 2 credits an hour) and `students` students with `credits` each. */
export async function world(
  opts: { timezone?: string; rules?: Partial<BookingRules>; students?: number; credits?: number } = {},
): Promise<World> {
  const subject = await createSubject();
  const tutor = await createTutor(subject.id, { timezone: opts.timezone ?? "UTC" });
  await putRules(tutor, rules(opts.rules));
  const students: TestUser[] = [];
  for (let i = 0; i < (opts.students ?? 1); i++) {
    const s = await createUser("student");
    await fund(s, opts.credits ?? 100);
    students.push(s);
  }
  return { subjectId: subject.id, tutor, students };
}

export function bookAt(w: World, student: TestUser, startTime: number, durationMinutes = 60) {
  return call("/v1/sessions", {
    token: student.token,
    body: { tutorProfileId: w.tutor.tutorProfileId, subjectId: w.subjectId, startTime, durationMinutes },
  });
}

export function bookSeriesAt(
  w: World,
  student: TestUser,
  startTime: number,
  count: number,
  opts: { durationMinutes?: number; headers?: Record<string, string> } = {},
) {
  return call("/v1/sessions/series", {
    token: student.token,
    body: {
      tutorProfileId: w.tutor.tutorProfileId,
      subjectId: w.subjectId,
      startTime,
      durationMinutes: opts.durationMinutes ?? 60,
      count,
    },
    headers: opts.headers,
  });
}
