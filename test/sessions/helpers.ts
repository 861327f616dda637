/** A bookable world: subject, tutor (profile + all-week availability), students with credits. */
import { ledgerFor } from "../../src/ledger/client";
import { call, createUser, env, json, type TestUser, tokenFor } from "../helpers/api";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export async function createSubject() {
  const admin = await createUser("admin");
  const slug = `s-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("/v1/admin/subjects", { token: admin.token, body: { name: `Subject ${slug}`, slug } });
  if (res.status !== 201) throw new Error(`subject: ${res.status} ${await res.text()}`);
  return json<{ id: string; slug: string }>(res);
}

export interface Tutor extends TestUser {
  tutorProfileId: string;
}

export async function createTutor(
  subjectId: string,
  opts: { price?: number; timezone?: string; weekly?: { weekday: number; start: string; end: string }[] } = {},
): Promise<Tutor> {
  const user = await createUser("student");
  const res = await call("/v1/me/tutor-profile", {
    token: user.token,
    body: {
      displayName: "Tess Tutor",
      bio: "Teaches well",
      subjectIds: [subjectId],
      hourlyCreditsPrice: opts.price ?? 2,
    },
  });
  if (res.status !== 201) throw new Error(`tutor profile: ${res.status} ${await res.text()}`);
  const profile = await json<{ id: string }>(res);
  const token = await tokenFor(user.id, "tutor");
  const weekly = opts.weekly ?? Array.from({ length: 7 }, (_, weekday) => ({ weekday, start: "00:00", end: "24:00" }));
  const av = await call("/v1/me/tutor-profile/availability", {
    method: "PUT",
    token,
    body: { timezone: opts.timezone ?? "UTC", weekly },
  });
  if (av.status !== 200) throw new Error(`availability: ${av.status} ${await av.text()}`);
  return { ...user, context: "tutor", token, tutorProfileId: profile.id };
}

export async function fund(user: TestUser, credits: number) {
  const r = await ledgerFor(env, user.id).adjust({
    at: Date.now(),
    userId: user.id,
    type: "credit",
    amount: credits,
    description: "test funds",
    key: `fund:${crypto.randomUUID()}`,
  });
  if (!r.ok) throw new Error("fund failed");
}

/** A 15-minute aligned instant `hours` from now (plus `minutes`). */
export function slotAt(hours: number, minutes = 0) {
  const q = 15 * 60_000;
  return Math.ceil((Date.now() + hours * HOUR + minutes * 60_000) / q) * q;
}

export async function book(
  student: TestUser,
  tutor: Tutor,
  subjectId: string,
  startTime: number,
  durationMinutes = 60,
  headers: Record<string, string> = {},
) {
  return call("/v1/sessions", {
    token: student.token,
    body: { tutorProfileId: tutor.tutorProfileId, subjectId, startTime, durationMinutes },
    headers,
  });
}

export async function balanceOf(token: string) {
  return (await json<{ balance: number }>(await call("/v1/credits/balance", { token }))).balance;
}
