/**
 * Finding 8 of issue 12 (client IP): the per-IP buckets read `cf-connecting-ip` only (never
 * `x-real-ip` / `x-forwarded-for`, which any client can set), and an IPv6 client counts as its
 * whole /64 (one subscriber usually holds a /64 or more, so per-address buckets are free to rotate).
 */
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { clientIpKey, UNKNOWN_CLIENT } from "../../src/http/client-ip";
import { call, env, uniqueEmail } from "../helpers/api";

const key = (headers: Record<string, string>) => clientIpKey(new Headers(headers));

describe("clientIpKey", () => {
  it("reads cf-connecting-ip only; x-real-ip and x-forwarded-for never count", () => {
    expect(key({ "cf-connecting-ip": "203.0.113.7" })).toBe("203.0.113.7");
    expect(key({ "x-real-ip": "198.51.100.1" })).toBe(UNKNOWN_CLIENT);
    expect(key({ "x-forwarded-for": "198.51.100.1" })).toBe(UNKNOWN_CLIENT);
    expect(key({ "cf-connecting-ip": "203.0.113.7", "x-real-ip": "198.51.100.1" })).toBe("203.0.113.7");
    expect(key({})).toBe(UNKNOWN_CLIENT);
  });

  it("groups IPv6 addresses by their /64, whatever the spelling", () => {
    const a = key({ "cf-connecting-ip": "2001:db8:85a3:42::1" });
    expect(a).toBe("2001:db8:85a3:42::/64");
    for (const same of [
      "2001:db8:85a3:42:ffff:ffff:ffff:ffff",
      "2001:0DB8:85A3:0042:0000:0000:0000:0002",
      "2001:db8:85a3:42:1:2:3:4",
      " 2001:db8:85a3:42::abcd ",
      "2001:db8:85a3:42::1.2.3.4",
    ]) {
      expect(key({ "cf-connecting-ip": same }), same).toBe(a);
    }
    expect(key({ "cf-connecting-ip": "2001:db8:85a3:43::1" })).toBe("2001:db8:85a3:43::/64");
    expect(key({ "cf-connecting-ip": "::1" })).toBe("0:0:0:0::/64");
    expect(key({ "cf-connecting-ip": "2001:db8::" })).toBe("2001:db8:0:0::/64");
    expect(key({ "cf-connecting-ip": "fe80::1%eth0" })).toBe("fe80:0:0:0::/64");
  });

  it("maps IPv4-mapped IPv6 addresses to their IPv4 address", () => {
    expect(key({ "cf-connecting-ip": "::ffff:203.0.113.7" })).toBe("203.0.113.7");
    expect(key({ "cf-connecting-ip": "::FFFF:cb00:7107" })).toBe("203.0.113.7");
    expect(key({ "cf-connecting-ip": "0:0:0:0:0:ffff:203.0.113.7" })).toBe("203.0.113.7");
  });

  it("normalizes IPv4 and refuses what is not an address (one shared bucket)", () => {
    expect(key({ "cf-connecting-ip": "203.0.113.07" })).toBe(UNKNOWN_CLIENT);
    expect(key({ "cf-connecting-ip": "0.0.0.0" })).toBe("0.0.0.0");
    for (const bad of [
      "",
      "unknown",
      "256.1.1.1",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.4, 5.6.7.8",
      "2001:db8::1::2",
      "2001:db8:1:2:3:4:5:6:7",
      "12345::",
      "[2001:db8::1]",
      "::ffff:1.2.3.256",
      "x".repeat(100),
    ]) {
      expect(key({ "cf-connecting-ip": bad }), bad).toBe(UNKNOWN_CLIENT);
    }
  });
});

const requestCode = (headers: Record<string, string>) =>
  call("/v1/auth/otp/request", { body: { email: uniqueEmail("ip") }, headers });

describe("the per-IP code-request window", () => {
  const max = getConfig(env).OTP_MAX_PER_IP;

  it("counts a client without cf-connecting-ip in one bucket, whatever x-real-ip it sends", async () => {
    let refused = false;
    for (let i = 0; i <= max && !refused; i++) {
      const b = crypto.getRandomValues(new Uint8Array(3));
      const res = await requestCode({ "x-real-ip": `10.${b[0]}.${b[1]}.${b[2]}`, "x-forwarded-for": `10.9.${i}.1` });
      refused = res.status === 429;
    }
    expect(refused, `no 429 within ${max + 1} requests with rotating x-real-ip`).toBe(true);
  });

  it("counts every address of one IPv6 /64 in one bucket", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    for (let i = 0; i < max; i++) {
      const res = await requestCode({ "cf-connecting-ip": `${prefix}:${(i + 1).toString(16)}::${i.toString(16)}` });
      expect(res.status, `request ${i + 1}`).toBe(202);
    }
    const res = await requestCode({ "cf-connecting-ip": `${prefix}::ffff` });
    expect(res.status).toBe(429);
    // the next /64 is another client
    const next = await requestCode({
      "cf-connecting-ip": `2001:db8:ffff:${Math.floor(Math.random() * 0xffff).toString(16)}::1`,
    });
    expect(next.status).toBe(202);
  });
});
