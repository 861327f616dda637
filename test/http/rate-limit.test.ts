/**
 * Rate limits (Workers Rate Limiting binding) on the expensive or abusable routes: per user (the
 * verified token's `sub`) and per client IP, 429 `rate_limited` with `Retry-After`.
 *
 * The suite's Worker runs with RATE_LIMITS=off (vitest.config.ts: the other test files book, log in
 * and upload far more often from one "IP" than a real client could); these tests call the Worker
 * with the same bindings and RATE_LIMITS=on, so what they see is the production behaviour.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import {
  RATE_LIMIT_PERIOD_SECONDS,
  type RateLimitBindingName,
  type RateLimitClass,
  rateLimitClasses,
  rateLimitedRoutes,
} from "../../src/http/rate-limit";
import worker from "../../src/index";
import { newId } from "../../src/lib/crypto";
import wranglerToml from "../../wrangler.toml?raw";
import { call, env, json, tokenFor } from "../helpers/api";

const limitedEnv = { ...env, RATE_LIMITS: "on" } as Env;

interface SendOptions {
  method?: string;
  token?: string;
  ip?: string;
  body?: unknown;
}

async function send(path: string, o: SendOptions = {}, bindings: Env = limitedEnv): Promise<Response> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.ip) headers["cf-connecting-ip"] = o.ip;
  let body: string | undefined;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers["content-type"] = "application/json";
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://api.test${path}`, { method: o.method ?? "POST", headers, body }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const randomIp = () => {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `198.${18 + ((b[0] ?? 0) % 2)}.${b[1]}.${b[2]}`;
};
const randomIpv6Prefix = () => {
  const w = crypto.getRandomValues(new Uint16Array(3));
  return `2001:db8:${w[0]?.toString(16)}:${w[1]?.toString(16)}`;
};
/** A token for a user id nobody has: the limiter keys on the verified `sub` before the route reads the user. */
const tokenOfNewSub = async () => {
  const sub = newId("usr");
  return { sub, token: await tokenFor(sub, "student") };
};

/** Uses up `key`'s budget in `binding` directly, so the next request with that key is over the limit. */
async function exhaust(binding: RateLimitBindingName, key: string) {
  const limiter = env[binding] as RateLimit;
  for (let i = 0; i < 1000; i++) {
    if (!(await limiter.limit({ key })).success) return i;
  }
  throw new Error(`${binding} never refused ${key}`);
}

/**
 * The binding counts in windows aligned to the wall clock (floor(now / period)): a run of requests
 * that straddles a window boundary sees its count reset halfway, and its 429 never comes. Such a
 * run starts over (with fresh keys: each run makes its own); a failure inside one window stands.
 */
async function inOneWindow(run: () => Promise<void>) {
  const windowNow = () => Math.floor(Date.now() / (RATE_LIMIT_PERIOD_SECONDS * 1000));
  for (let attempt = 1; ; attempt++) {
    const started = windowNow();
    try {
      return await run();
    } catch (err) {
      if (windowNow() === started || attempt === 3) throw err;
    }
  }
}

async function expectRateLimited(res: Response) {
  expect(res.status, await res.clone().text()).toBe(429);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
  const problem = await json<{ code: string; status: number }>(res);
  expect(problem).toMatchObject({ code: "rate_limited", status: 429 });
}

const classes: RateLimitClass[] = Object.values(rateLimitClasses);

const bookBody = { tutorProfileId: "tut_x", subjectId: "sub_x", startTime: 0, durationMinutes: 60 };

describe("the rate-limit table", () => {
  it("matches wrangler.toml: one [[ratelimits]] entry per binding, same limit, the documented period", () => {
    const blocks = wranglerToml.split("[[ratelimits]]").slice(1);
    const declared = blocks.map((b) => ({
      name: /name\s*=\s*"([^"]+)"/.exec(b)?.[1],
      namespace: /namespace_id\s*=\s*"(\d+)"/.exec(b)?.[1],
      limit: Number(/limit\s*=\s*(\d+)/.exec(b)?.[1]),
      period: Number(/period\s*=\s*(\d+)/.exec(b)?.[1]),
    }));
    const expected = classes.flatMap((cls) =>
      [cls.user, cls.ip].flatMap((scope) => (scope ? [{ name: scope.binding, limit: scope.limit }] : [])),
    );
    expect(
      declared.map(({ name, limit }) => ({ name, limit })).sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
    expect(declared.every((d) => d.period === RATE_LIMIT_PERIOD_SECONDS)).toBe(true);
    const namespaces = declared.map((d) => d.namespace);
    expect(namespaces.every(Boolean)).toBe(true);
    expect(new Set(namespaces).size).toBe(namespaces.length);
  });

  it("each binding refuses after exactly its documented limit (the runtime reads that wrangler.toml)", () =>
    inOneWindow(async () => {
      for (const cls of classes) {
        for (const scope of [cls.user, cls.ip]) {
          if (scope)
            expect(await exhaust(scope.binding, `count:${crypto.randomUUID()}`), scope.binding).toBe(scope.limit);
        }
      }
    }));

  it("documents 429 rate_limited on every limited operation of the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(
      await call("/v1/openapi.json"),
    );
    let documented = 0;
    for (const route of rateLimitedRoutes) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      if (!op) continue; // a route of the table that does not exist yet (it is limited once it lands)
      expect(JSON.stringify(op.responses["429"] ?? null), `${route.method} ${route.path}`).toContain("rate_limited");
      documented += 1;
    }
    expect(documented).toBeGreaterThanOrEqual(6);
  });
});

describe("per user", () => {
  it("booking: the 11th request of one user within a minute is 429 with Retry-After; another user on the same IP is not", () =>
    inOneWindow(async () => {
      const ip = randomIp();
      const a = await tokenOfNewSub();
      const limit = rateLimitClasses.booking.user.limit;
      for (let i = 0; i < limit; i++) {
        const res = await send("/v1/sessions", { token: a.token, ip, body: bookBody });
        expect(res.status, `request ${i + 1}`).not.toBe(429);
      }
      await expectRateLimited(await send("/v1/sessions", { token: a.token, ip, body: bookBody }));
      // the same user from another network is still over its own limit
      await expectRateLimited(await send("/v1/sessions", { token: a.token, ip: randomIp(), body: bookBody }));
      const b = await tokenOfNewSub();
      expect((await send("/v1/sessions", { token: b.token, ip, body: bookBody })).status).not.toBe(429);
    }));

  it("a token that does not verify never spends the budget of the user it names", async () => {
    const victim = await tokenOfNewSub();
    const forged = await new SignJWT({ role: "student" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(victim.sub)
      .setIssuer(getConfig(env).JWT_ISSUER)
      .setAudience(getConfig(env).JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    for (let i = 0; i < rateLimitClasses.checkout.user.limit + 2; i++) {
      const res = await send("/v1/credits/checkout", { token: forged, ip: randomIp(), body: { packId: "pack_5" } });
      expect(res.status).toBe(401);
    }
    const own = await send("/v1/credits/checkout", { token: victim.token, ip: randomIp(), body: { packId: "nope" } });
    expect(own.status).not.toBe(429);
  });
});

describe("per IP", () => {
  it("booking: many users from one IP hit the per-IP limit; another IP is unaffected", () =>
    inOneWindow(async () => {
      const ip = randomIp();
      const limit = rateLimitClasses.booking.ip.limit;
      for (let i = 0; i < limit; i++) {
        const { token } = await tokenOfNewSub();
        expect((await send("/v1/sessions", { token, ip, body: bookBody })).status, `request ${i + 1}`).not.toBe(429);
      }
      await expectRateLimited(await send("/v1/sessions", { token: (await tokenOfNewSub()).token, ip, body: bookBody }));
      const elsewhere = await send("/v1/sessions", {
        token: (await tokenOfNewSub()).token,
        ip: randomIp(),
        body: bookBody,
      });
      expect(elsewhere.status).not.toBe(429);
    }));

  it("login: an IPv6 client is one client across its /64", () =>
    inOneWindow(async () => {
      const prefix = randomIpv6Prefix();
      const limit = rateLimitClasses.login.ip.limit;
      // a new address each time: one address's wrong-code budget (10 an hour, modules/auth) is smaller
      const body = () => ({ email: `nobody.${crypto.randomUUID()}@example.test`, code: "000000" });
      for (let i = 0; i < limit; i++) {
        const res = await send("/v1/auth/otp/verify", { ip: `${prefix}:${i.toString(16)}::1`, body: body() });
        expect(res.status, `request ${i + 1}`).not.toBe(429);
      }
      await expectRateLimited(await send("/v1/auth/otp/verify", { ip: `${prefix}:ffff:1:2:3`, body: body() }));
      const next = await send("/v1/auth/otp/verify", { ip: `${randomIpv6Prefix()}::1`, body: body() });
      expect(next.status).not.toBe(429);
    }));
});

describe("every route of the table", () => {
  const concrete = (path: string) => path.replace(/\{[^}]+\}/g, "ses_x");

  it.each(rateLimitedRoutes)(
    "$method $path is limited per IP and, when it has a user budget, per user",
    async (route) => {
      const cls: RateLimitClass = rateLimitClasses[route.class];
      const ip = randomIp();
      const me = await tokenOfNewSub();
      expect((await send(concrete(route.path), { method: route.method, ip, token: me.token })).status).not.toBe(429);
      await exhaust(cls.ip.binding, ip);
      await expectRateLimited(await send(concrete(route.path), { method: route.method, ip, token: me.token }));
      if (cls.user) {
        const other = await tokenOfNewSub();
        await exhaust(cls.user.binding, other.sub);
        await expectRateLimited(
          await send(concrete(route.path), { method: route.method, ip: randomIp(), token: other.token }),
        );
      }
    },
  );

  it("leaves other routes and methods alone", async () => {
    const ip = randomIp();
    for (const cls of classes) await exhaust(cls.ip.binding, ip);
    for (const [method, path] of [
      ["GET", "/v1/sessions"],
      ["GET", "/v1/sessions/ses_x/recording"],
      ["POST", "/v1/auth/otp/request"],
      ["GET", "/v1/health"],
      ["POST", "/v1/sessions/ses_x/cancel"],
    ] as const) {
      const res = await send(path, { method, ip, body: method === "POST" ? { email: "x@example.test" } : undefined });
      expect(res.status, `${method} ${path}`).not.toBe(429);
    }
  });
});

describe("RATE_LIMITS", () => {
  it("off (the suite's setting) enforces nothing", async () => {
    const ip = randomIp();
    await exhaust(rateLimitClasses.booking.ip.binding, ip);
    const res = await send("/v1/sessions", { ip, body: bookBody }, env as Env);
    expect(res.status).toBe(401);
  });

  it("cannot be off in production", () => {
    const production = { ...env, ENVIRONMENT: "production", CORS_ORIGINS: "https://app.example", RATE_LIMITS: "off" };
    expect(() => getConfig(production as Env)).toThrow(ConfigError);
    expect(() => getConfig(production as Env)).toThrow(/RATE_LIMITS/);
  });
});

describe("a failing limiter", () => {
  it("lets the request through (a burst guard's outage is not the route's) instead of a 500", async () => {
    const broken = {
      limit: async () => {
        throw new Error("rate limiter unavailable");
      },
    } as unknown as RateLimit;
    const bindings = { ...limitedEnv, RATE_LIMIT_BOOKING_IP: broken, RATE_LIMIT_BOOKING_USER: broken } as Env;
    const me = await tokenOfNewSub();
    const res = await send("/v1/sessions", { ip: randomIp(), token: me.token, body: bookBody }, bindings);
    // the route itself answers: the token's user does not exist
    expect(res.status).toBe(401);
  });
});

describe("HEAD", () => {
  it("counts as the GET it runs (HEAD /v1/me/export spends the export budget)", async () => {
    const ip = randomIp();
    await exhaust(rateLimitClasses.export.ip.binding, ip);
    const res = await send("/v1/me/export", { method: "HEAD", ip });
    // a HEAD answer has no body to read the problem from: status and Retry-After say it
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
  });
});
