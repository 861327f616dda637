/** Shared by the e2e files: the client, logins, and small worlds (subject, tutor, funded student). */
import assert from "node:assert/strict";
import {
  ALL_WEEK,
  type CallOptions,
  Client,
  poll,
  QUARTER,
  type Res,
  rand,
  type Tokens,
} from "../tools/offline/client.ts";
import { recordProxiedCall } from "./prism.ts";

export { adminEmail, MAX_RECORDING_BYTES } from "./helpers-config.ts";
export { poll, QUARTER, rand, type Tokens };

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is unset: run the e2e suite with npm run test:e2e`);
  return v;
}

/**
 * This e2e file's client address. The files run at once against one `wrangler dev`, which would give
 * all of them 127.0.0.1; each file is one client of its own (a random address of 198.18.0.0/15, the
 * benchmarking range), so the per-IP rate limits (on, as in production) count each file apart.
 */
export const clientIp = () => {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `198.${18 + ((b[0] ?? 0) % 2)}.${b[1]}.${b[2]}`;
};

/**
 * Every JSON or body-less call goes through Prism, the validating proxy e2e/run.ts starts
 * (E2E_PROXY_URL; e2e/prism.ts), which checks it and its answer against the OpenAPI document: a
 * call that breaks the document on purpose says so with `expectViolation: true`. So do the SDK's
 * given `fetch: c.fetchFor()`. `raw` bodies, `direct: true` calls and plain fetches of `c.apiUrl`
 * (pages, image bytes) reach the API directly.
 */
export const c = new Client(env("E2E_API_URL"), env("E2E_EMULATOR_URL"), {
  headers: { "cf-connecting-ip": clientIp() },
  proxy: proxyOf(process.env.E2E_PROXY_URL, process.env.E2E_PRISM_CALLS),
});

function proxyOf(url: string | undefined, calls: string | undefined) {
  if (!url || !calls) return null;
  return { url, onCall: (call: Parameters<typeof recordProxiedCall>[1]) => recordProxiedCall(calls, call) };
}

export const email = (tag: string) => `${tag}.${rand()}${rand()}@e2e.test`;

export async function expectProblem(r: Res, status: number, code: string) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 300)}`);
  assert.match(r.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal((r.body as { code?: string }).code, code, r.text.slice(0, 300));
}

export interface Subject {
  id: string;
  slug: string;
  name: string;
}

export async function newSubject(admin: Tokens): Promise<Subject> {
  const tag = rand();
  return c.ok<Subject>(
    "/v1/admin/subjects",
    { token: admin.accessToken, body: { name: `Subject ${tag}`, slug: `s-${tag}-${rand()}` } },
    201,
  );
}

export interface Tutor {
  tokens: Tokens;
  token: string;
  profileId: string;
  userId: string;
  email: string;
}

/**
 * A new tutor with all-week availability, approved by `admin` (wrangler dev runs with the default
 * TUTOR_APPROVAL_REQUIRED=true: a new profile is pending, invisible and unbookable until then).
 */
export async function newTutor(admin: Tokens, subjectIds: string[], price = 2): Promise<Tutor> {
  const mail = email("tutor");
  const first = await c.login(mail);
  const profile = await c.ok<{ id: string }>(
    "/v1/me/tutor-profile",
    {
      token: first.accessToken,
      body: { displayName: `Tutor ${rand()}`, bio: "Teaches well.", subjectIds, hourlyCreditsPrice: price },
    },
    201,
  );
  const tokens = await c.ok<Tokens>("/v1/me/context", { token: first.accessToken, body: { context: "tutor" } });
  await c.ok("/v1/me/tutor-profile/availability", { method: "PUT", token: tokens.accessToken, body: ALL_WEEK });
  await approve(admin, profile.id);
  return { tokens, token: tokens.accessToken, profileId: profile.id, userId: tokens.user.id, email: mail };
}

/** An admin sets a tutor profile's status (the approval route); returns the profile. */
export function setTutorStatus(
  admin: Tokens,
  profileId: string,
  status: "approved" | "rejected" | "suspended",
  reason?: string,
) {
  return c.ok<{ id: string; status: string; statusReason: string | null }>(`/v1/admin/tutors/${profileId}/status`, {
    token: admin.accessToken,
    body: reason === undefined ? { status } : { status, reason },
  });
}

export const approve = (admin: Tokens, profileId: string) => setTutorStatus(admin, profileId, "approved");

export interface Student {
  tokens: Tokens;
  token: string;
  userId: string;
  email: string;
}

export async function newStudent(): Promise<Student> {
  const mail = email("student");
  const tokens = await c.login(mail);
  return { tokens, token: tokens.accessToken, userId: tokens.user.id, email: mail };
}

export async function fund(admin: Tokens, userId: string, amount: number) {
  await c.ok(
    "/v1/admin/credits/adjustments",
    { token: admin.accessToken, body: { userId, type: "credit", amount, description: "e2e funding" } },
    201,
  );
}

export const balance = async (s: Student) =>
  (await c.ok<{ balance: number }>("/v1/credits/balance", { token: s.token })).balance;

/** A 15-minute boundary about `hours` from now. */
export const slotIn = (hours: number) => Math.ceil((Date.now() + hours * 3600_000) / QUARTER) * QUARTER;
/** The next 15-minute boundary: bookable (no minimum notice offline) and startable at once. */
export const nextQuarter = () => Math.ceil((Date.now() + 20_000) / QUARTER) * QUARTER;

export interface Session {
  id: string;
  status: string;
  startTime: number;
  endTime: number;
  creditsCost: number;
  tutorProfileId: string;
  studentProfileId: string;
  videoSessionUrl: string | null;
  refunded?: boolean;
}

export function book(
  s: Student,
  t: Tutor,
  subjectId: string,
  startTime: number,
  durationMinutes = 60,
  o: Pick<CallOptions, "headers" | "expectViolation"> = {},
) {
  return c.call<Session>("/v1/sessions", {
    token: s.token,
    body: { tutorProfileId: t.profileId, subjectId, startTime, durationMinutes },
    ...o,
  });
}

/** Starts a session at the next quarter, waiting the few seconds it may be early. */
export async function start(t: Tutor, sessionId: string) {
  return poll("the session to be startable", 45_000, async () => {
    const r = await c.call<Session>(`/v1/sessions/${sessionId}/start`, { method: "POST", token: t.token });
    if (r.status === 200) return r.body;
    if (r.status !== 409) throw new Error(`start: ${r.status} ${r.text}`);
    return undefined;
  });
}

export async function joinable(token: string, sessionId: string) {
  return poll("the video room", 30_000, async () => {
    const r = await c.call<{ url: string; role: string }>(`/v1/sessions/${sessionId}/join`, { token });
    if (r.status === 200) return r.body;
    if (r.status !== 503) throw new Error(`join: ${r.status} ${r.text}`);
    return undefined;
  });
}
