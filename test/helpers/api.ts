/** Test harness: call the Worker, seed a fresh world, mint tokens, read the provider fakes. */
import { env, exports } from "cloudflare:workers";
import { getConfig } from "../../src/config";
import type { UserContext } from "../../src/db/schema";
import { newId } from "../../src/lib/crypto";
import { signAccessToken } from "../../src/modules/auth/tokens";

export { env };

export interface CallOptions {
  method?: string;
  token?: string;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  return (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(`http://api.test${path}`, { method: opts.method ?? (body ? "POST" : "GET"), headers, body }),
  );
}

/**
 * The suite's bindings as a production deployment has them: ENVIRONMENT=production needs explicit
 * CORS_ORIGINS and enforces the rate limits (config.ts refuses anything else there).
 */
export const productionEnv = (vars: Record<string, string> = {}) =>
  ({ ...env, ENVIRONMENT: "production", CORS_ORIGINS: "https://app.test", RATE_LIMITS: "on", ...vars }) as typeof env;

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export const uniqueEmail = (tag = "user") => `${tag}.${crypto.randomUUID().slice(0, 8)}@example.test`;

export interface TestUser {
  id: string;
  email: string;
  context: UserContext;
  studentProfileId: string | null;
  tutorProfileId: string | null;
  token: string;
}

/** Inserts a user (with a student profile) directly and mints an access token for it. */
export async function createUser(context: UserContext = "student", opts: { email?: string } = {}): Promise<TestUser> {
  const now = Date.now();
  const id = newId("usr");
  const studentProfileId = newId("stu");
  const email = opts.email ?? uniqueEmail(context);
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO users (id, email, name, context, studentProfileId, tutorProfileId, createdAt, updatedAt) VALUES (?, ?, NULL, ?, ?, NULL, ?, ?)",
    ).bind(id, email, context, studentProfileId, now, now),
    env.DB.prepare(
      "INSERT INTO studentProfiles (id, userId, displayName, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)",
    ).bind(studentProfileId, id, email.split("@")[0], now, now),
  ]);
  return { id, email, context, studentProfileId, tutorProfileId: null, token: await tokenFor(id, context) };
}

export async function tokenFor(userId: string, role: UserContext): Promise<string> {
  return signAccessToken(getConfig(env), { sub: userId, role });
}

/** Recorded requests of the provider fakes. */
export async function fakeRequests(
  path: string,
  contains?: string,
): Promise<
  { method: string; path: string; headers: Record<string, string>; body: string; query: Record<string, string> }[]
> {
  const url = new URL(`${env.FAKE_PROVIDERS_URL}/__control/requests`);
  url.searchParams.set("path", path);
  if (contains) url.searchParams.set("contains", contains);
  return (await fetch(url)).json();
}

export async function failNext(
  path: string,
  status: number,
  opts: { match?: string; times?: number; body?: unknown } = {},
) {
  await fetch(`${env.FAKE_PROVIDERS_URL}/__control/fail`, {
    method: "POST",
    body: JSON.stringify({ path, status, match: opts.match, times: opts.times ?? 1, body: opts.body }),
  });
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function expectProblem(res: Response, status: number, code: string) {
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { status?: number; code?: string } | null;
  if (res.status !== status || body?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.headers.get("content-type")}`);
  }
  return body as Record<string, unknown>;
}
