/**
 * The demo seed behind `npm run seed`, the first `npm run dev` and the e2e journey test. Everything
 * the public API can do goes through it, as a newcomer would: logins with codes from the emulator's
 * inbox, subjects by the admin, tutor profiles, availability and avatars, credits bought through the
 * emulated hosted checkout, upcoming lessons booked from the tutors' free slots. Past lessons and a
 * lesson report cannot be made through the API, so those rows are SQL (seed-history.ts).
 *
 * Re-runnable: every step checks what exists and only adds or updates what differs, so a second
 * run changes nothing (or converges, e.g. books new upcoming lessons once the old ones are past).
 */
import { avatarPng } from "./avatar.ts";
import { type Client, poll, type Tokens } from "./client.ts";
import {
  availabilityOf,
  DEMO_APPLICANT,
  DEMO_STUDENT,
  DEMO_SUBJECTS,
  DEMO_TUTORS,
  type DemoTutor,
  PAST_LESSONS,
  UPCOMING_WITH,
} from "./demo-data.ts";
import { writeHistory } from "./seed-history.ts";
import type { Provider } from "./vars.ts";

export interface SeedOptions {
  client: Client;
  /** An address listed in the Worker's ADMIN_EMAILS. */
  adminEmail: string;
  /** Providers the running Worker emulates (logins need the inbox; credits use checkout if Stripe is). */
  emulated: Provider[];
  /** Where the history SQL file is written. */
  workDir: string;
  /** The local state of the running `wrangler dev` (its default when unset). */
  persistTo?: string;
  log?: (msg: string) => void;
}

export interface SeededTutor {
  id: string;
  email: string;
  displayName: string;
  timezone: string;
}

export interface SeedSummary {
  subjects: number;
  tutors: SeededTutor[];
  student: { email: string; balance: number; upcoming: number; past: number };
  admin: string;
}

interface Subject {
  id: string;
  slug: string;
  name: string;
}
interface Session {
  id: string;
  status: string;
  startTime: number;
  endTime: number;
  tutorProfileId: string;
}
interface Order {
  id: string;
  status: string;
}

const DAY = 86_400_000;

/** True when the demo catalogue's subjects are all there (what `npm run dev` checks on start). */
export async function isSeeded(c: Client): Promise<boolean> {
  const { items } = await c.ok<{ items: Subject[] }>("/v1/subjects");
  return DEMO_SUBJECTS.every((s) => items.some((i) => i.slug === s.slug));
}

export async function seedDemo(o: SeedOptions): Promise<SeedSummary> {
  const { client: c } = o;
  const log = o.log ?? (() => {});
  if (!o.emulated.includes("resend")) {
    // logins need the codes; with real Resend they would be real e-mails to made-up addresses
    throw new Error(
      "the seed logs the demo users in with codes from the emulator's inbox and sends no real e-mail: leave RESEND_API_KEY unset in .dev.vars to seed",
    );
  }
  const admin = await c.login(o.adminEmail);
  if (admin.user.context !== "admin") {
    throw new Error(`${o.adminEmail} logged in as ${admin.user.context}: it must be listed in ADMIN_EMAILS`);
  }
  const subjects = await ensureSubjects(c, admin);
  log(`subjects: ${subjects.size}`);

  const tutors = await Promise.all(DEMO_TUTORS.map((t) => ensureTutor(c, admin, t, subjects)));
  log(`tutors: ${tutors.map((t) => t.displayName).join(", ")}`);
  if (await ensureApplicant(c, subjects)) log(`applicant: ${DEMO_APPLICANT.displayName} waits for approval`);

  let student = await c.login(DEMO_STUDENT.email);
  if (student.user.name !== DEMO_STUDENT.name) {
    await c.ok("/v1/me", { method: "PATCH", token: student.accessToken, body: { name: DEMO_STUDENT.name } });
  }
  if (!student.user.studentProfileId) {
    student = await c.ok<Tokens>("/v1/me/context", { token: student.accessToken, body: { context: "student" } });
  }
  await writeHistory(o.workDir, Date.now(), o.persistTo);
  log(`history: ${PAST_LESSONS.length} past lessons (SQL)`);

  if (!(await hasBoughtCredits(c, student))) await buyCredits(c, o, admin, student);

  await bookUpcoming(c, o, admin, student, tutors, subjects);
  return verify(c, o, student, subjects.size, tutors);
}

async function ensureSubjects(c: Client, admin: Tokens): Promise<Map<string, string>> {
  const { items } = await c.ok<{ items: Subject[] }>("/v1/subjects");
  const bySlug = new Map(items.map((s) => [s.slug, s.id]));
  for (const s of DEMO_SUBJECTS) {
    if (bySlug.has(s.slug)) continue;
    const created = await c.ok<Subject>("/v1/admin/subjects", { token: admin.accessToken, body: s }, 201);
    bySlug.set(s.slug, created.id);
  }
  return new Map(DEMO_SUBJECTS.map((s) => [s.slug, bySlug.get(s.slug) as string]));
}

interface TutorProfile {
  id: string;
  displayName: string;
  bio: string;
  subjectIds: string[];
  hourlyCreditsPrice: number;
  avatarUrl: string | null;
  status: "pending" | "approved" | "rejected" | "suspended";
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const sameSet = (a: string[], b: string[]) => same([...a].sort(), [...b].sort());

/** Creates the tutor, or changes only what differs from the catalogue (a re-run writes nothing). */
async function ensureTutor(c: Client, admin: Tokens, t: DemoTutor, subjects: Map<string, string>) {
  const first = await c.login(t.email);
  if (first.user.name !== t.displayName) {
    await c.ok("/v1/me", { method: "PATCH", token: first.accessToken, body: { name: t.displayName } });
  }
  const fields = {
    displayName: t.displayName,
    bio: t.bio,
    subjectIds: t.subjects.map((slug) => subjects.get(slug) as string),
    hourlyCreditsPrice: t.hourlyCreditsPrice,
  };
  const isNew = !first.user.tutorProfileId;
  if (isNew) await c.ok("/v1/me/tutor-profile", { token: first.accessToken, body: fields }, 201);
  const tokens =
    first.user.context === "tutor"
      ? first
      : await c.ok<Tokens>("/v1/me/context", { token: first.accessToken, body: { context: "tutor" } });
  const token = tokens.accessToken;
  let profile = await c.ok<TutorProfile>("/v1/me/tutor-profile", { token });
  const drifted =
    profile.displayName !== fields.displayName ||
    profile.bio !== fields.bio ||
    profile.hourlyCreditsPrice !== fields.hourlyCreditsPrice ||
    !sameSet(profile.subjectIds, fields.subjectIds);
  if (drifted) profile = await c.ok<TutorProfile>("/v1/me/tutor-profile", { method: "PATCH", token, body: fields });

  const weekly = availabilityOf(t);
  const stored = await c.ok<typeof weekly>("/v1/me/tutor-profile/availability", { token });
  if (!same(stored, weekly)) await c.ok("/v1/me/tutor-profile/availability", { method: "PUT", token, body: weekly });

  const png = avatarPng(t.avatar.bg, t.avatar.fg);
  const current = profile.avatarUrl ? await fetch(new URL(profile.avatarUrl, c.apiUrl)) : null;
  const currentBytes = current?.ok ? new Uint8Array(await current.arrayBuffer()) : null;
  if (!currentBytes || Buffer.compare(currentBytes, png) !== 0) {
    await c.ok("/v1/me/tutor-profile/avatar", {
      method: "PUT",
      token,
      raw: png,
      headers: { "content-type": "image/png" },
    });
  }
  // Where tutors need an admin's approval before they are listed (TUTOR_APPROVAL_REQUIRED), give it.
  if (profile.status !== "approved") {
    await c.ok(`/v1/admin/tutors/${profile.id}/status`, { token: admin.accessToken, body: { status: "approved" } });
  }
  return { id: profile.id, email: t.email, displayName: t.displayName, timezone: t.timezone };
}

/**
 * The applicant's tutor profile, once: it starts `pending` where approval is required and is left
 * for an admin (the back office's approval queue); a later decision is never undone by a re-seed.
 * True when it was created now.
 */
async function ensureApplicant(c: Client, subjects: Map<string, string>): Promise<boolean> {
  const a = await c.login(DEMO_APPLICANT.email);
  if (a.user.tutorProfileId) return false;
  if (a.user.name !== DEMO_APPLICANT.displayName) {
    await c.ok("/v1/me", { method: "PATCH", token: a.accessToken, body: { name: DEMO_APPLICANT.displayName } });
  }
  const body = {
    displayName: DEMO_APPLICANT.displayName,
    bio: DEMO_APPLICANT.bio,
    subjectIds: DEMO_APPLICANT.subjects.map((slug) => subjects.get(slug) as string),
    hourlyCreditsPrice: DEMO_APPLICANT.hourlyCreditsPrice,
  };
  await c.ok("/v1/me/tutor-profile", { token: a.accessToken, body }, 201);
  return true;
}

const DEMO_CREDITS_NOTE = "Demo credits (seed)";

/** A paid order, or (with real Stripe) the admin adjustment that stands in for one. */
async function hasBoughtCredits(c: Client, student: Tokens): Promise<boolean> {
  const orders = await c.ok<{ items: Order[] }>("/v1/credits/orders?limit=100", { token: student.accessToken });
  if (orders.items.some((x) => x.status === "completed")) return true;
  const ledger = await c.ok<{ items: { description: string }[] }>("/v1/credits/ledger?limit=100", {
    token: student.accessToken,
  });
  return ledger.items.some((e) => e.description === DEMO_CREDITS_NOTE);
}

const balanceOf = async (c: Client, student: Tokens) =>
  (await c.ok<{ balance: number }>("/v1/credits/balance", { token: student.accessToken })).balance;

/** One credit pack: through the emulated hosted checkout, or an admin adjustment with real Stripe. */
async function buyCredits(c: Client, o: SeedOptions, admin: Tokens, student: Tokens) {
  const before = await balanceOf(c, student);
  const packs = await c.ok<{ items: { id: string; credits: number }[] }>("/v1/credits/packs");
  const pack = packs.items[0];
  if (!pack) throw new Error("no credit pack configured (CREDIT_PACKS)");
  if (o.emulated.includes("stripe")) {
    const checkout = await c.ok<{ checkoutUrl: string }>(
      "/v1/credits/checkout",
      { token: student.accessToken, body: { packId: pack.id } },
      201,
    );
    const paid = await c.checkoutAction(checkout.checkoutUrl, "pay");
    if (paid.status !== 200) throw new Error(`emulated checkout: ${paid.status} ${paid.error ?? ""}`);
  } else {
    // a real Stripe checkout needs a person at the card form; fund the student the admin's way
    await c.ok(
      "/v1/admin/credits/adjustments",
      {
        token: admin.accessToken,
        body: { userId: student.user.id, type: "credit", amount: pack.credits, description: DEMO_CREDITS_NOTE },
      },
      201,
    );
  }
  await poll("the purchased credits", 20_000, async () =>
    (await balanceOf(c, student)) >= before + pack.credits ? true : undefined,
  );
  o.log?.(`credits: bought ${pack.credits} (${pack.id})`);
}

const upcomingOf = async (c: Client, student: Tokens) =>
  (
    await c.ok<{ items: Session[] }>(`/v1/sessions?as=student&status=scheduled&from=${Date.now()}&limit=100`, {
      token: student.accessToken,
    })
  ).items;

/**
 * The tutor's first free hour from tomorrow (UTC) on, within a week, that does not overlap the
 * student's own scheduled sessions (the slots list only knows the tutor's).
 */
export async function firstFreeSlot(c: Client, tutorId: string, studentToken: string) {
  const from = Math.ceil((Date.now() + DAY) / DAY) * DAY;
  const slots = await c.ok<{ items: { startTime: number; endTime: number }[] }>(
    `/v1/tutors/${tutorId}/slots?from=${from}&to=${from + 7 * DAY}&durationMinutes=60`,
  );
  const mine = await c.ok<{ items: Session[] }>(
    `/v1/sessions?as=student&status=scheduled&from=${from - DAY}&limit=100`,
    {
      token: studentToken,
    },
  );
  return slots.items.find((x) => !mine.items.some((s) => x.startTime < s.endTime && x.endTime > s.startTime));
}

async function bookUpcoming(
  c: Client,
  o: SeedOptions,
  admin: Tokens,
  student: Tokens,
  tutors: SeededTutor[],
  subjects: Map<string, string>,
) {
  const upcoming = await upcomingOf(c, student);
  for (const email of UPCOMING_WITH) {
    const tutor = tutors.find((t) => t.email === email);
    const demo = DEMO_TUTORS.find((t) => t.email === email);
    if (!tutor || !demo) throw new Error(`upcoming lesson: no demo tutor ${email}`);
    if (upcoming.some((s) => s.tutorProfileId === tutor.id)) continue;
    const slot = await firstFreeSlot(c, tutor.id, student.accessToken);
    if (!slot) throw new Error(`no free slot for ${tutor.displayName} in the coming week`);
    const body = {
      tutorProfileId: tutor.id,
      subjectId: subjects.get(demo.subjects[0] as string),
      startTime: slot.startTime,
      durationMinutes: 60,
    };
    let r = await c.call("/v1/sessions", { token: student.accessToken, body });
    if (r.status === 402) {
      await buyCredits(c, o, admin, student);
      r = await c.call("/v1/sessions", { token: student.accessToken, body });
    }
    if (r.status !== 201) throw new Error(`booking ${tutor.displayName}: ${r.status} ${r.text.slice(0, 300)}`);
    o.log?.(`booked ${tutor.displayName} at ${new Date(slot.startTime).toISOString()}`);
  }
}

/** Reads back through the API what the seed promises, so a silent SQL no-op cannot pass. */
async function verify(
  c: Client,
  o: SeedOptions,
  student: Tokens,
  subjects: number,
  tutors: SeededTutor[],
): Promise<SeedSummary> {
  const sessions = await c.ok<{ items: Session[] }>("/v1/sessions?as=student&status=completed&limit=100", {
    token: student.accessToken,
  });
  const past = PAST_LESSONS.filter((l) => sessions.items.some((s) => s.id === l.id)).length;
  if (past !== PAST_LESSONS.length) throw new Error(`history: ${past} of ${PAST_LESSONS.length} past lessons stored`);
  for (const l of PAST_LESSONS.filter((x) => x.report)) {
    await c.ok(`/v1/sessions/${l.id}/report`, { token: student.accessToken });
  }
  const upcoming = (await upcomingOf(c, student)).length;
  const balance = await balanceOf(c, student);
  return { subjects, tutors, student: { email: DEMO_STUDENT.email, balance, upcoming, past }, admin: o.adminEmail };
}
