/**
 * Rate limits over HTTP (Workers Rate Limiting binding under `wrangler dev`, RATE_LIMITS on as in
 * production): per user and per client IP, 429 `rate_limited` with `Retry-After`, IPv6 by /64.
 * Budgets: docs/api-guide.md ("Rate limits").
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { c, clientIp, email, expectProblem } from "./helpers.ts";

const BOOKINGS_PER_USER = 10;
const VERIFICATIONS_PER_IP = 30;

/** A random 16-bit group, in hex. */
const group = () => Math.floor(Math.random() * 0x10000).toString(16);

const notABooking = { tutorProfileId: "tut_none", subjectId: "sub_none", startTime: 0, durationMinutes: 60 };

async function expectRateLimited(r: Awaited<ReturnType<typeof c.call>>) {
  await expectProblem(r, 429, "rate_limited");
  assert.equal(r.headers.get("retry-after"), "60");
}

describe("rate limits over HTTP", () => {
  it(`booking: the ${BOOKINGS_PER_USER + 1}th request of one user in a minute is 429; another user on the same IP is not`, async () => {
    const ip = clientIp();
    const one = await c.login(email("rl-one"));
    const two = await c.login(email("rl-two"));
    for (let i = 0; i < BOOKINGS_PER_USER; i++) {
      const r = await c.call("/v1/sessions", {
        token: one.accessToken,
        body: notABooking,
        headers: { "cf-connecting-ip": ip },
      });
      assert.notEqual(r.status, 429, `request ${i + 1}: ${r.text}`);
    }
    const over = await c.call("/v1/sessions", {
      token: one.accessToken,
      body: notABooking,
      headers: { "cf-connecting-ip": ip },
    });
    await expectRateLimited(over);
    assert.match((over.body as { detail: string }).detail, /account/);
    const other = await c.call("/v1/sessions", {
      token: two.accessToken,
      body: notABooking,
      headers: { "cf-connecting-ip": ip },
    });
    assert.notEqual(other.status, 429, other.text);
  });

  it(`code verification: ${VERIFICATIONS_PER_IP} per minute per client, an IPv6 client counted by its /64`, async () => {
    // a different unknown address each time: only the per-IP budget can apply
    const verify = (ip: string) =>
      c.call("/v1/auth/otp/verify", {
        body: { email: email("rl-guess"), code: "000000" },
        headers: { "cf-connecting-ip": ip },
      });
    // The limiter counts in fixed one-minute windows: a burst that straddles a window's end starts
    // counting again. Only then (the burst's first and last request in different minutes) is it
    // run once more, in the new window.
    const burst = async () => {
      const prefix = `2001:db8:${group()}:${group()}`;
      const startedMinute = Math.floor(Date.now() / 60_000);
      for (let i = 0; i < VERIFICATIONS_PER_IP; i++) {
        const r = await verify(`${prefix}:${(i + 1).toString(16)}::${i.toString(16)}`);
        assert.equal(r.status, 401, `request ${i + 1}: ${r.text}`);
      }
      const over = await verify(`${prefix}:ffff:ffff:ffff:ffff`);
      return { over, straddled: Math.floor(Date.now() / 60_000) !== startedMinute };
    };
    let { over, straddled } = await burst();
    if (over.status !== 429 && straddled) ({ over } = await burst());
    await expectRateLimited(over);
    assert.match((over.body as { detail: string }).detail, /network/);
    assert.equal((await verify(`2001:db8:${group()}:${group()}::1`)).status, 401);
    assert.equal((await verify(clientIp())).status, 401);
  });
});
