/**
 * Login-code guessing is bounded per address and per client IP (API.md "Auth"), not only per code:
 * at most OTP_MAX_FAILED_PER_ADDRESS wrong codes per address per hour are ever compared, whatever
 * the number of codes requested and of IPs used, also under parallel guesses.
 */
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { purgeExpired } from "../../src/jobs/cleanup";
import { jobContext } from "../../src/jobs/context";
import { env, expectProblem, uniqueEmail } from "../helpers/api";
import { codeFrom, insertOtp, otherCode, requestOtp, uniqueIp, verify, waitForEmails } from "./helpers";

const config = getConfig(env);
const HOUR_MS = 60 * 60 * 1000;
const failBucket = (email: string) => `otp:fail:${email}`;
const verifyIpBucket = (ip: string) => `otp:verify:ip:${ip}`;

const eventsIn = async (bucket: string) =>
  (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM rateLimitEvents WHERE bucket = ?")
      .bind(bucket)
      .first<{ n: number }>()
  )?.n ?? 0;

/** Codes actually compared for `email`: every comparison first claims one attempt of its code. */
const evaluated = async (email: string) =>
  (
    await env.DB.prepare("SELECT COALESCE(SUM(attempts), 0) AS n FROM otpCodes WHERE email = ?")
      .bind(email)
      .first<{ n: number }>()
  )?.n ?? 0;

/** A six-digit code that is none of `codes`. */
const noneOf = (codes: Set<string>) => {
  let guess = "000000";
  while (codes.has(guess)) guess = otherCode(guess);
  return guess;
};

/** `n` wrong codes for `email`, sequentially, each from its own IP, on as many fresh codes as needed. */
async function fail(email: string, n: number) {
  let code = "";
  for (let i = 0; i < n; i++) {
    if (i % 5 === 0) ({ code } = await insertOtp(email));
    await expectProblem(await verify(email, otherCode(code)), 401, "unauthorized");
  }
}

async function expect429(res: Response, maxSeconds: number) {
  await expectProblem(res, 429, "rate_limited");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return retryAfter;
}

describe("login-code guessing: the per-address failure budget", () => {
  it("evaluates at most OTP_MAX_FAILED_PER_ADDRESS wrong codes per address per hour, whatever the number of code requests and IPs", async () => {
    const max = config.OTP_MAX_FAILED_PER_ADDRESS;
    expect(max).toBe(10);
    const email = uniqueEmail("guessing");
    const known = new Set<string>();
    const statuses: number[] = [];
    // Eight codes: five asked for through the route (the request limit allows 5 per 10 minutes),
    // three more written directly (codes of later request windows). After each, 8 parallel wrong
    // guesses, each from its own IP: 64 guesses, which the per-code limit alone would let reach 40
    // comparisons.
    for (let round = 0; round < 8; round++) {
      if (round < 5) {
        expect((await requestOtp(email, uniqueIp())).status).toBe(202);
        for (const mail of await waitForEmails(email, round + 1)) known.add(codeFrom(mail));
      } else {
        known.add((await insertOtp(email)).code);
      }
      const guess = noneOf(known);
      const results = await Promise.all(Array.from({ length: 8 }, () => verify(email, guess, uniqueIp())));
      statuses.push(...results.map((r) => r.status));
      for (const r of results) if (r.status === 429) await expect429(r, HOUR_MS / 1000);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(64 - max);
    expect(await evaluated(email)).toBeLessThanOrEqual(max);
    expect(await eventsIn(failBucket(email))).toBe(max);

    // Locked for the hour: a fresh code, right as it is, is 429 from any IP, and asking for more
    // codes changes nothing.
    const fresh = await insertOtp(email);
    const before = await evaluated(email);
    const retryAfter = await expect429(await verify(email, fresh.code, uniqueIp()), HOUR_MS / 1000);
    expect(retryAfter).toBeGreaterThan(HOUR_MS / 1000 - 120);
    await expect429(await verify(email.toUpperCase(), fresh.code, uniqueIp()), HOUR_MS / 1000);
    expect(await evaluated(email)).toBe(before);

    // Other addresses are not affected.
    const other = uniqueEmail("guessing-other");
    const { code } = await insertOtp(other);
    expect((await verify(other, code)).status).toBe(200);
  });

  it("answers 429 for the right code once the budget is spent, until the failures are an hour old", async () => {
    const email = uniqueEmail("lockout");
    await fail(email, config.OTP_MAX_FAILED_PER_ADDRESS);
    const { code } = await insertOtp(email);
    await expect429(await verify(email, code), HOUR_MS / 1000);
    // Age the failures past the hour: the same (still live) code now logs in.
    await env.DB.prepare("UPDATE rateLimitEvents SET createdAt = createdAt - ? WHERE bucket = ?")
      .bind(HOUR_MS, failBucket(email))
      .run();
    expect((await verify(email, code)).status).toBe(200);
  });

  it("tells how long to wait: Retry-After counts from the oldest failure of the hour", async () => {
    const email = uniqueEmail("lockout-retry");
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: config.OTP_MAX_FAILED_PER_ADDRESS }, (_, i) =>
        env.DB.prepare("INSERT INTO rateLimitEvents (id, bucket, createdAt) VALUES (?, ?, ?)").bind(
          `rl_${crypto.randomUUID()}`,
          failBucket(email),
          i === 0 ? now - HOUR_MS + 120_000 : now - 1000, // the oldest leaves the window in two minutes
        ),
      ),
    );
    const { code } = await insertOtp(email);
    const retryAfter = await expect429(await verify(email, code), HOUR_MS / 1000);
    expect(retryAfter).toBeGreaterThanOrEqual(115);
    expect(retryAfter).toBeLessThanOrEqual(121);
  });

  it("never spends the budget on right codes: logins in between leave it to wrong codes", async () => {
    const email = uniqueEmail("budget-logins");
    const max = config.OTP_MAX_FAILED_PER_ADDRESS;
    await fail(email, max - 1);
    for (let i = 0; i < 5; i++) {
      const { code } = await insertOtp(email);
      expect((await verify(email, code)).status, `login ${i + 1}`).toBe(200);
    }
    expect(await eventsIn(failBucket(email))).toBe(max - 1);
    const { code } = await insertOtp(email);
    await expectProblem(await verify(email, otherCode(code)), 401, "unauthorized");
    await expect429(await verify(email, code), HOUR_MS / 1000);
  });

  it("holds the budget under parallel guesses on one code from many IPs", async () => {
    const email = uniqueEmail("budget-race");
    const max = config.OTP_MAX_FAILED_PER_ADDRESS;
    const { code } = await insertOtp(email);
    const results = await Promise.all(Array.from({ length: 30 }, () => verify(email, otherCode(code), uniqueIp())));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - max);
    expect(await eventsIn(failBucket(email))).toBe(max);
    // The per-code limit still holds inside the budget.
    expect(await evaluated(email)).toBe(5);
  });

  it("counts a code for an address that has no live code as a failure (no oracle for live codes)", async () => {
    const email = uniqueEmail("budget-nocode");
    for (let i = 0; i < config.OTP_MAX_FAILED_PER_ADDRESS; i++) {
      await expectProblem(await verify(email, "123456"), 401, "unauthorized");
    }
    const { code } = await insertOtp(email);
    await expect429(await verify(email, code), HOUR_MS / 1000);
  });

  it("keeps a failure through the cleanup cron until it is an hour old", async () => {
    const email = uniqueEmail("budget-cleanup");
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO rateLimitEvents (id, bucket, createdAt) VALUES (?, ?, ?)").bind(
        `rl_${crypto.randomUUID()}`,
        failBucket(email),
        now - HOUR_MS + 60_000,
      ),
      env.DB.prepare("INSERT INTO rateLimitEvents (id, bucket, createdAt) VALUES (?, ?, ?)").bind(
        `rl_${crypto.randomUUID()}`,
        failBucket(email),
        now - HOUR_MS - 60_000,
      ),
    ]);
    await purgeExpired(await jobContext(env, "test"));
    expect(await eventsIn(failBucket(email))).toBe(1);
  });
});

describe("login-code verification: the per-IP limit", () => {
  it("allows OTP_VERIFY_MAX_PER_IP verifications per client IP per 10 minutes (also in parallel), then 429 whatever the code", async () => {
    const max = config.OTP_VERIFY_MAX_PER_IP;
    expect(max).toBe(60);
    const ip = uniqueIp();
    // Each guess for its own address: only the IP limit can apply.
    const results = await Promise.all(
      Array.from({ length: max + 10 }, () => verify(uniqueEmail("verify-ip"), "123456", ip)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    for (const r of results) if (r.status === 429) await expect429(r, 600);
    expect(await eventsIn(verifyIpBucket(ip))).toBe(max);

    // A right code from that IP is refused too, and spends nothing of its address's budget.
    const email = uniqueEmail("verify-ip-right");
    const { code } = await insertOtp(email);
    await expect429(await verify(email, code, ip), 600);
    expect(await eventsIn(failBucket(email))).toBe(0);
    // From another IP it logs in.
    expect((await verify(email, code, uniqueIp())).status).toBe(200);
  });

  it("counts right codes too: the limit is on verifications, not failures", async () => {
    const ip = uniqueIp();
    const email = uniqueEmail("verify-ip-count");
    const { code } = await insertOtp(email);
    expect((await verify(email, code, ip)).status).toBe(200);
    expect(await eventsIn(verifyIpBucket(ip))).toBe(1);
  });
});
