import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { OTP_MAX_ATTEMPTS, RATE_WINDOW_MS } from "../../src/modules/auth/otp";
import { call, createUser, env, expectProblem, json, uniqueEmail } from "../helpers/api";
import {
  codeFrom,
  insertOtp,
  login,
  otherCode,
  requestOtp,
  type TokenPair,
  uniqueIp,
  verify,
  waitForEmails,
} from "./helpers";

const config = getConfig(env);

const otpRows = (email: string) =>
  env.DB.prepare("SELECT * FROM otpCodes WHERE email = ? ORDER BY createdAt")
    .bind(email)
    .all<{ id: string; attempts: number; consumedAt: number | null; expiresAt: number; createdAt: number }>()
    .then((r) => r.results);

const eventsIn = async (bucket: string) =>
  (
    await env.DB.prepare("SELECT COUNT(*) AS n FROM rateLimitEvents WHERE bucket = ?")
      .bind(bucket)
      .first<{ n: number }>()
  )?.n;

const userByEmail = (email: string) =>
  env.DB.prepare("SELECT * FROM users WHERE email = ?")
    .bind(email)
    .first<{ id: string; context: string; studentProfileId: string | null; tutorProfileId: string | null }>();

describe("POST /v1/auth/otp/request", () => {
  it("answers 202 {ok:true} for an unknown address and e-mails a 6-digit code through Resend", async () => {
    const email = uniqueEmail("otp-unknown");
    const before = Date.now();
    const res = await requestOtp(email, uniqueIp());
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ ok: true });

    // No account is created by asking for a code.
    expect(await userByEmail(email)).toBeNull();
    const rows = await otpRows(email);
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row?.attempts).toBe(0);
    expect(row?.consumedAt).toBeNull();
    // Valid 10 minutes.
    expect(row?.expiresAt).toBeGreaterThanOrEqual(before + 10 * 60 * 1000);
    expect(row?.expiresAt).toBeLessThanOrEqual(Date.now() + 10 * 60 * 1000);

    const [mail] = await waitForEmails(email);
    if (!mail) throw new Error("no e-mail");
    expect(mail.headers.authorization).toBe(`Bearer ${env.RESEND_API_KEY}`);
    expect(mail.headers["idempotency-key"]).toMatch(/^.{1,255}$/);
    expect(mail.body.to).toEqual([email]);
    expect(mail.body.from).toBe(config.EMAIL_FROM);
    const code = codeFrom(mail);
    expect(code).toMatch(/^\d{6}$/);
    // The code is not stored in clear.
    const stored = await env.DB.prepare("SELECT codeHash FROM otpCodes WHERE email = ?").bind(email).first<{
      codeHash: string;
    }>();
    expect(stored?.codeHash).not.toContain(code);

    // The e-mailed code logs in.
    const login = await verify(email, code);
    expect(login.status).toBe(200);
    const pair = await json<TokenPair>(login);
    expect(pair.user.email).toBe(email);
  });

  it("answers exactly the same for a known address, and the e-mailed code logs into that account", async () => {
    const known = await createUser("student");
    const unknownRes = await requestOtp(uniqueEmail("otp-other"), uniqueIp());
    const knownRes = await requestOtp(known.email, uniqueIp());
    expect(knownRes.status).toBe(202);
    expect(knownRes.status).toBe(unknownRes.status);
    expect(await json(knownRes)).toEqual(await json(unknownRes));

    const [mail] = await waitForEmails(known.email);
    if (!mail) throw new Error("no e-mail");
    const res = await verify(known.email, codeFrom(mail));
    expect(res.status).toBe(200);
    const pair = await json<TokenPair>(res);
    expect(pair.user.id).toBe(known.id);
    expect(pair.user.studentProfileId).toBe(known.studentProfileId);
  });

  it("gives every e-mail its own Idempotency-Key and a fresh code", async () => {
    const email = uniqueEmail("otp-twice");
    const ip = uniqueIp();
    expect((await requestOtp(email, ip)).status).toBe(202);
    expect((await requestOtp(email, ip)).status).toBe(202);
    const mails = await waitForEmails(email, 2);
    expect(mails).toHaveLength(2);
    const keys = mails.map((m) => m.headers["idempotency-key"]);
    expect(keys.every((k) => typeof k === "string" && k.length > 0)).toBe(true);
    expect(new Set(keys).size).toBe(2);
    expect(await otpRows(email)).toHaveLength(2);
  });

  it("treats the address case-insensitively", async () => {
    const email = uniqueEmail("otp-case");
    const res = await requestOtp(email.toUpperCase(), uniqueIp());
    expect(res.status).toBe(202);
    expect(await otpRows(email)).toHaveLength(1);
    const [mail] = await waitForEmails(email);
    if (!mail) throw new Error("no e-mail");
    const ok = await verify(email.toUpperCase(), codeFrom(mail));
    expect(ok.status).toBe(200);
    expect((await json<TokenPair>(ok)).user.email).toBe(email);
  });

  it.each([
    [{ email: "not-an-email" }, "email"],
    [{}, "email"],
    [{ email: 42 }, "email"],
    [{ email: "a@b.test", extra: 1 }, "extra"],
  ])("rejects the body %j with 400", async (body, path) => {
    const res = await call("/v1/auth/otp/request", { body, headers: { "cf-connecting-ip": uniqueIp() } });
    const problem = await expectProblem(res, 400, "validation_failed");
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });
});

describe("POST /v1/auth/otp/request rate limits", () => {
  it(`allows OTP_MAX_PER_ADDRESS (${config.OTP_MAX_PER_ADDRESS}) requests per address per 10 min, then 429 with Retry-After`, async () => {
    const email = uniqueEmail("otp-rate");
    const max = config.OTP_MAX_PER_ADDRESS;
    expect(max).toBe(5);
    for (let i = 0; i < max; i++) {
      // A new IP every time: only the address limit can apply.
      const res = await requestOtp(i % 2 === 0 ? email : email.toUpperCase(), uniqueIp());
      expect(res.status, `request ${i + 1}`).toBe(202);
    }
    const res = await requestOtp(email, uniqueIp());
    await expectProblem(res, 429, "rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(RATE_WINDOW_MS / 1000);
    // The refused request stored no code and counted nowhere.
    expect(await otpRows(email)).toHaveLength(max);
    expect(await eventsIn(`otp:email:${email}`)).toBe(max);
    // Other addresses are not affected.
    expect((await requestOtp(uniqueEmail("otp-rate-other"), uniqueIp())).status).toBe(202);
  });

  it("counts only the last 10 minutes (sliding window)", async () => {
    const email = uniqueEmail("otp-window");
    const old = Date.now() - RATE_WINDOW_MS - 1000;
    const stmts = [];
    for (let i = 0; i < config.OTP_MAX_PER_ADDRESS; i++) {
      stmts.push(
        env.DB.prepare("INSERT INTO rateLimitEvents (id, bucket, createdAt) VALUES (?, ?, ?)").bind(
          `rl_old_${crypto.randomUUID()}`,
          `otp:email:${email}`,
          old,
        ),
      );
    }
    await env.DB.batch(stmts);
    expect((await requestOtp(email, uniqueIp())).status).toBe(202);
  });

  it("tells how long to wait: Retry-After counts from the oldest request in the window", async () => {
    const email = uniqueEmail("otp-retry");
    const now = Date.now();
    const oldest = now - RATE_WINDOW_MS + 60_000; // leaves the window in about a minute
    const stmts = [];
    for (let i = 0; i < config.OTP_MAX_PER_ADDRESS; i++) {
      stmts.push(
        env.DB.prepare("INSERT INTO rateLimitEvents (id, bucket, createdAt) VALUES (?, ?, ?)").bind(
          `rl_${crypto.randomUUID()}`,
          `otp:email:${email}`,
          i === 0 ? oldest : now - 1000,
        ),
      );
    }
    await env.DB.batch(stmts);
    const res = await requestOtp(email, uniqueIp());
    await expectProblem(res, 429, "rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(61);
  });

  it("holds the per-address limit under parallel requests", async () => {
    const email = uniqueEmail("otp-rate-race");
    const max = config.OTP_MAX_PER_ADDRESS;
    const results = await Promise.all(Array.from({ length: max * 3 }, () => requestOtp(email, uniqueIp())));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(max * 2);
    expect(await otpRows(email)).toHaveLength(max);
    expect(await eventsIn(`otp:email:${email}`)).toBe(max);
  });

  it("holds the per-IP limit under parallel requests", async () => {
    const ip = uniqueIp();
    const max = config.OTP_MAX_PER_IP;
    const results = await Promise.all(
      Array.from({ length: max + 10 }, () => requestOtp(uniqueEmail("otp-ip-race"), ip)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    expect(await eventsIn(`otp:ip:${ip}`)).toBe(max);
  });

  it(`allows OTP_MAX_PER_IP (${config.OTP_MAX_PER_IP}) requests per client IP per 10 min, then 429`, async () => {
    const ip = uniqueIp();
    const max = config.OTP_MAX_PER_IP;
    expect(max).toBe(30);
    let lastAllowed = "";
    for (let i = 0; i < max; i++) {
      // A new address every time: only the IP limit can apply.
      lastAllowed = uniqueEmail("otp-ip");
      const res = await requestOtp(lastAllowed, ip);
      expect(res.status, `request ${i + 1}`).toBe(202);
    }
    const email = uniqueEmail("otp-ip-last");
    const res = await requestOtp(email, ip);
    await expectProblem(res, 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await otpRows(email)).toHaveLength(0);
    expect(await eventsIn(`otp:ip:${ip}`)).toBe(max);
    // The request that filled the IP's last slot also counted for its address.
    expect(await eventsIn(`otp:email:${lastAllowed}`)).toBe(1);
    expect(await eventsIn(`otp:email:${email}`)).toBe(0);
    // Another IP asking for the same address is served.
    expect((await requestOtp(email, uniqueIp())).status).toBe(202);
  });
});

describe("POST /v1/auth/otp/verify", () => {
  it("creates a student with a student profile on first login and returns a token pair", async () => {
    const email = uniqueEmail("first-login");
    const { code } = await insertOtp(email);
    const before = Date.now();
    const res = await verify(email, code);
    expect(res.status).toBe(200);
    const pair = await json<TokenPair>(res);
    expect(pair).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
      user: {
        id: expect.any(String),
        email,
        name: null,
        context: "student",
        studentProfileId: expect.any(String),
        tutorProfileId: null,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    });
    expect(pair.user.createdAt).toBeGreaterThanOrEqual(before - 1000);

    const row = await userByEmail(email);
    expect(row).toMatchObject({ id: pair.user.id, context: "student", studentProfileId: pair.user.studentProfileId });
    const profile = await env.DB.prepare("SELECT * FROM studentProfiles WHERE id = ?")
      .bind(pair.user.studentProfileId)
      .first<{ userId: string }>();
    expect(profile?.userId).toBe(pair.user.id);

    const claims = decodeJwt(pair.accessToken);
    expect(claims).toMatchObject({
      sub: pair.user.id,
      role: "student",
      iss: config.JWT_ISSUER,
      aud: config.JWT_AUDIENCE,
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(config.ACCESS_TOKEN_TTL_SECONDS);

    // The access token works.
    const me = await call("/v1/me", { token: pair.accessToken });
    expect(me.status).toBe(200);
    expect((await json(me)).id).toBe(pair.user.id);
  });

  it("does not create a second user on the next login", async () => {
    const email = uniqueEmail("second-login");
    const first = await login(email);
    const second = await login(email);
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.studentProfileId).toBe(first.user.studentProfileId);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?")
      .bind(email)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it("gives an address listed in ADMIN_EMAILS the admin context (real e-mail round trip)", async () => {
    const email = "root@admin.test";
    expect(config.ADMIN_EMAILS).toContain(email);
    expect((await requestOtp(email, uniqueIp())).status).toBe(202);
    const [mail] = await waitForEmails(email);
    if (!mail) throw new Error("no e-mail");
    const res = await verify(email, codeFrom(mail));
    expect(res.status).toBe(200);
    const pair = await json<TokenPair>(res);
    expect(pair.user.context).toBe("admin");
    expect(decodeJwt(pair.accessToken).role).toBe("admin");
    expect((await userByEmail(email))?.context).toBe("admin");
  });

  it("does not make other addresses admins", async () => {
    const pair = await login(uniqueEmail("admin.test"));
    expect(pair.user.context).toBe("student");
    expect(decodeJwt(pair.accessToken).role).toBe("student");
  });

  it("refuses a wrong code with 401 and counts the attempt", async () => {
    const email = uniqueEmail("wrong-code");
    const { id, code } = await insertOtp(email);
    await expectProblem(await verify(email, otherCode(code)), 401, "unauthorized");
    const row = await env.DB.prepare("SELECT attempts, consumedAt FROM otpCodes WHERE id = ?")
      .bind(id)
      .first<{ attempts: number; consumedAt: number | null }>();
    expect(row).toEqual({ attempts: 1, consumedAt: null });
    expect(await userByEmail(email)).toBeNull();
    // The right code still works afterwards.
    expect((await verify(email, code)).status).toBe(200);
  });

  it("refuses a code for an address that never asked for one", async () => {
    await expectProblem(await verify(uniqueEmail("never-asked"), "123456"), 401, "unauthorized");
  });

  it("refuses another address's code", async () => {
    const a = uniqueEmail("code-owner");
    const b = uniqueEmail("code-thief");
    const { code } = await insertOtp(a);
    await insertOtp(b);
    await expectProblem(await verify(b, code), 401, "unauthorized");
  });

  it("accepts a code only once", async () => {
    const email = uniqueEmail("single-use");
    const { id, code } = await insertOtp(email);
    expect((await verify(email, code)).status).toBe(200);
    const consumed = await env.DB.prepare("SELECT consumedAt FROM otpCodes WHERE id = ?")
      .bind(id)
      .first<{ consumedAt: number | null }>();
    expect(consumed?.consumedAt).toEqual(expect.any(Number));
    await expectProblem(await verify(email, code), 401, "unauthorized");
  });

  it("accepts a code only once under parallel verification", async () => {
    const email = uniqueEmail("single-use-race");
    const { code } = await insertOtp(email);
    const results = await Promise.all(Array.from({ length: 5 }, () => verify(email, code)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it("refuses an expired code", async () => {
    const email = uniqueEmail("expired");
    const { id, code } = await insertOtp(email);
    await env.DB.prepare("UPDATE otpCodes SET expiresAt = ? WHERE id = ?")
      .bind(Date.now() - 1, id)
      .run();
    await expectProblem(await verify(email, code), 401, "unauthorized");
    expect(await userByEmail(email)).toBeNull();
  });

  it("expires an e-mailed code after 10 minutes", async () => {
    const email = uniqueEmail("expired-mailed");
    expect((await requestOtp(email, uniqueIp())).status).toBe(202);
    const [mail] = await waitForEmails(email);
    if (!mail) throw new Error("no e-mail");
    // Move the code's creation 10 minutes and a second into the past.
    await env.DB.prepare("UPDATE otpCodes SET createdAt = createdAt - ?, expiresAt = expiresAt - ? WHERE email = ?")
      .bind(601_000, 601_000, email)
      .run();
    await expectProblem(await verify(email, codeFrom(mail)), 401, "unauthorized");
  });

  it(`refuses the right code after ${OTP_MAX_ATTEMPTS} wrong attempts`, async () => {
    expect(OTP_MAX_ATTEMPTS).toBe(5);
    const email = uniqueEmail("attempts");
    const { id, code } = await insertOtp(email);
    for (let i = 0; i < 5; i++) {
      await expectProblem(await verify(email, otherCode(code)), 401, "unauthorized");
    }
    await expectProblem(await verify(email, code), 401, "unauthorized");
    const row = await env.DB.prepare("SELECT attempts, consumedAt FROM otpCodes WHERE id = ?")
      .bind(id)
      .first<{ attempts: number; consumedAt: number | null }>();
    expect(row).toEqual({ attempts: 5, consumedAt: null });
    expect(await userByEmail(email)).toBeNull();
  });

  it("accepts the right code on the fifth attempt", async () => {
    const email = uniqueEmail("attempts-ok");
    const { code } = await insertOtp(email);
    for (let i = 0; i < 4; i++) {
      await expectProblem(await verify(email, otherCode(code)), 401, "unauthorized");
    }
    expect((await verify(email, code)).status).toBe(200);
  });

  it("holds the attempt limit under parallel guesses", async () => {
    const email = uniqueEmail("attempts-race");
    const { id, code } = await insertOtp(email);
    // 8 guesses: within the address's failure budget (otp-guessing.test.ts), so only the per-code limit applies.
    expect(config.OTP_MAX_FAILED_PER_ADDRESS).toBeGreaterThan(8);
    const guesses = await Promise.all(Array.from({ length: 8 }, () => verify(email, otherCode(code))));
    expect(guesses.every((r) => r.status === 401)).toBe(true);
    const row = await env.DB.prepare("SELECT attempts FROM otpCodes WHERE id = ?")
      .bind(id)
      .first<{ attempts: number }>();
    expect(row?.attempts).toBe(5);
    await expectProblem(await verify(email, code), 401, "unauthorized");
  });

  it.each([
    [{ email: "a@b.test", code: "12345" }, "code"],
    [{ email: "a@b.test", code: "1234567" }, "code"],
    [{ email: "a@b.test", code: "abcdef" }, "code"],
    [{ email: "a@b.test", code: 123456 }, "code"],
    [{ email: "a@b.test" }, "code"],
    [{ code: "123456" }, "email"],
    [{ email: "nope", code: "123456" }, "email"],
    [{ email: "a@b.test", code: "123456", context: "admin" }, "context"],
  ])("rejects the body %j with 400", async (body, path) => {
    const problem = await expectProblem(await call("/v1/auth/otp/verify", { body }), 400, "validation_failed");
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });
});
