/** Shared by the e2e files: the client, logins, and small worlds (subject, tutor, funded student). */
import assert from "node:assert/strict";
import { createClient, idempotencyKey, type Problem, type ProblemCode, unwrap } from "../sdk/src/index.ts";
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
const IP = clientIp();
export const c = new Client(env("E2E_API_URL"), env("E2E_EMULATOR_URL"), {
  headers: { "cf-connecting-ip": IP },
  proxy: proxyOf(process.env.E2E_PROXY_URL, process.env.E2E_PRISM_CALLS),
});

function proxyOf(url: string | undefined, calls: string | undefined) {
  if (!url || !calls) return null;
  return { url, onCall: (call: Parameters<typeof recordProxiedCall>[1]) => recordProxiedCall(calls, call) };
}

/**
 * The typed SDK as one user (or anonymous), the way an integrator calls the API: through the same
 * validating proxy as `c`'s calls, from this file's client address. The shared helpers below use it.
 */
export function sdkAs(token?: string, o: { expectViolation?: boolean } = {}) {
  const viaProxy = c.fetchFor(o);
  return createClient({
    baseUrl: c.apiUrl,
    getToken: () => token,
    fetch: (request) => {
      request.headers.set("cf-connecting-ip", IP);
      return viaProxy(request);
    },
  });
}

/** An SDK answer (openapi-fetch's result: data or error, and the response). */
export interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}
/** What the answer said, for an assertion's message. */
export const said = (r: Answer<unknown>) => JSON.stringify(r.error ?? r.data ?? null).slice(0, 300);
/** The answer's data, once its status is exactly `status`. */
export function dataOf<T>(r: Answer<T>, status: number): T {
  assert.equal(r.response.status, status, said(r));
  return unwrap(r);
}
/** The SDK answer is the problem+json document `code` with `status` (what expectProblem checks); returns it. */
export function expectProblemOf(r: Answer<unknown>, status: number, code: ProblemCode): Problem {
  assert.equal(r.response.status, status, `expected ${status} ${code}, got ${r.response.status} ${said(r)}`);
  assert.match(r.response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const problem = r.error as Problem | undefined;
  assert.equal(problem?.code, code, said(r));
  assert.ok(problem);
  return problem;
}

/** A booking through the SDK (`book` below stays for the requests that break the document on purpose). */
export const bookAs = (
  s: Pick<Student, "token">,
  t: { profileId: string },
  subjectId: string,
  startTime: number,
  durationMinutes = 60,
  key?: string,
) =>
  sdkAs(s.token).POST("/v1/sessions", {
    body: { tutorProfileId: t.profileId, subjectId, startTime, durationMinutes },
    ...(key ? { params: { header: idempotencyKey(key) } } : {}),
  });

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
  return unwrap(
    await sdkAs(admin.accessToken).POST("/v1/admin/subjects", {
      body: { name: `Subject ${tag}`, slug: `s-${tag}-${rand()}` },
    }),
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
  const asApplicant = sdkAs(first.accessToken);
  const profile = unwrap(
    await asApplicant.POST("/v1/me/tutor-profile", {
      body: { displayName: `Tutor ${rand()}`, bio: "Teaches well.", subjectIds, hourlyCreditsPrice: price },
    }),
  );
  const tokens: Tokens = unwrap(await asApplicant.POST("/v1/me/context", { body: { context: "tutor" } }));
  unwrap(await sdkAs(tokens.accessToken).PUT("/v1/me/tutor-profile/availability", { body: ALL_WEEK }));
  await approve(admin, profile.id);
  return { tokens, token: tokens.accessToken, profileId: profile.id, userId: tokens.user.id, email: mail };
}

/** An admin sets a tutor profile's status (the approval route); returns the profile. */
export async function setTutorStatus(
  admin: Tokens,
  profileId: string,
  status: "approved" | "rejected" | "suspended",
  reason?: string,
) {
  return unwrap(
    await sdkAs(admin.accessToken).POST("/v1/admin/tutors/{id}/status", {
      params: { path: { id: profileId } },
      body: reason === undefined ? { status } : { status, reason },
    }),
  );
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
  unwrap(
    await sdkAs(admin.accessToken).POST("/v1/admin/credits/adjustments", {
      params: { header: idempotencyKey() },
      body: { userId, type: "credit", amount, description: "e2e funding" },
    }),
  );
}

export const balance = async (s: Student) => unwrap(await sdkAs(s.token).GET("/v1/credits/balance")).balance;

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
    const r = await sdkAs(t.token).POST("/v1/sessions/{id}/start", { params: { path: { id: sessionId } } });
    if (r.response.status === 200 && r.data) return r.data;
    if (r.response.status !== 409) throw new Error(`start: ${r.response.status} ${JSON.stringify(r.error)}`);
    return undefined;
  });
}

export async function joinable(token: string, sessionId: string) {
  return poll("the video room", 30_000, async () => {
    const r = await sdkAs(token).GET("/v1/sessions/{id}/join", { params: { path: { id: sessionId } } });
    if (r.response.status === 200 && r.data) return r.data;
    if (r.response.status !== 503) throw new Error(`join: ${r.response.status} ${JSON.stringify(r.error)}`);
    return undefined;
  });
}
