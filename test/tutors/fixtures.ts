/** Fixtures shared by the subject and tutor tests: subjects, tutors (through the API), sessions. */
import { expect } from "vitest";
import { call, createUser, env, json, type TestUser, tokenFor } from "../helpers/api";

export interface SubjectRow {
  id: string;
  name: string;
  slug: string;
}

export interface TutorProfileBody {
  id: string;
  userId: string;
  displayName: string;
  bio: string;
  subjects: SubjectRow[];
  subjectIds: string[];
  hourlyCreditsPrice: number;
  avatarUrl: string | null;
  timezone: string | null;
  status: "pending" | "approved" | "rejected" | "suspended";
  statusReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export const uniqueSlug = (tag = "subj") => `${tag}-${crypto.randomUUID().slice(0, 8)}`;

/** Inserts a subject directly (the admin route has its own tests). */
export async function insertSubject(name = "Subject", slug = uniqueSlug()): Promise<SubjectRow> {
  const id = `sub_${crypto.randomUUID()}`;
  await env.DB.prepare("INSERT INTO subjects (id, name, slug, createdAt) VALUES (?, ?, ?, ?)")
    .bind(id, name, slug, Date.now())
    .run();
  return { id, name, slug };
}

export interface TestTutor {
  user: TestUser;
  /** A token with the `tutor` role (the token's role is trusted on non-admin routes). */
  token: string;
  profile: TutorProfileBody;
}

/** A student who creates a tutor profile through the API, plus a tutor-role token. */
export async function createTutor(fields: {
  subjectIds: string[];
  displayName?: string;
  bio?: string;
  hourlyCreditsPrice?: number;
}): Promise<TestTutor> {
  const user = await createUser("student");
  const res = await call("/v1/me/tutor-profile", {
    token: user.token,
    body: {
      displayName: fields.displayName ?? "Ada Tutor",
      bio: fields.bio ?? "Patient and precise.",
      subjectIds: fields.subjectIds,
      hourlyCreditsPrice: fields.hourlyCreditsPrice ?? 4,
    },
  });
  expect(res.status).toBe(201);
  return { user, token: await tokenFor(user.id, "tutor"), profile: await json<TutorProfileBody>(res) };
}

/** Puts availability through the API and checks it was accepted. */
export async function putAvailability(
  token: string,
  timezone: string,
  weekly: { weekday: number; start: string; end: string }[],
): Promise<void> {
  const res = await call("/v1/me/tutor-profile/availability", { method: "PUT", token, body: { timezone, weekly } });
  expect(res.status).toBe(200);
}

/** Every weekday, all day. */
export const allWeek = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "00:00", end: "24:00" }));

/** Inserts a session row for a tutor directly (bookings are another module's job). */
export async function insertSession(
  tutorProfileId: string,
  startTime: number,
  endTime: number,
  status: "scheduled" | "in_progress" | "completed" | "cancelled" = "scheduled",
): Promise<string> {
  const id = `ses_${crypto.randomUUID()}`;
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO sessions (id, tutorProfileId, studentProfileId, subjectId, startTime, endTime, status, creditsCost, createdAt, updatedAt) VALUES (?, ?, ?, NULL, ?, ?, ?, 1, ?, ?)",
  )
    .bind(id, tutorProfileId, `stu_${crypto.randomUUID()}`, startTime, endTime, status, now, now)
    .run();
  return id;
}

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** Epoch ms of an ISO date-time written in UTC ("2031-01-06T14:00"). */
export const utc = (iso: string) => Date.parse(`${iso}Z`);
