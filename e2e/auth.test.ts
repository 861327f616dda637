import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { adminEmail, c, email, expectProblem, type Tokens } from "./helpers.ts";

describe("auth over HTTP", () => {
  it("logs in with the one-time code from the inbox; the code works once; a wrong code is 401", async () => {
    const mail = email("ana");
    const code = await c.otpCode(mail);
    await expectProblem(
      await c.call("/v1/auth/otp/verify", { body: { email: mail, code: code === "000000" ? "111111" : "000000" } }),
      401,
      "unauthorized",
    );
    const tokens = await c.ok<Tokens>("/v1/auth/otp/verify", { body: { email: mail, code } });
    assert.equal(tokens.user.email, mail);
    assert.equal(tokens.user.context, "student");
    assert.ok(tokens.user.studentProfileId);
    assert.equal(tokens.expiresIn, 900);
    await expectProblem(await c.call("/v1/auth/otp/verify", { body: { email: mail, code } }), 401, "unauthorized");

    const me = await c.ok<{ id: string; email: string; context: string }>("/v1/me", { token: tokens.accessToken });
    assert.equal(me.id, tokens.user.id);
    const renamed = await c.ok<{ name: string }>("/v1/me", {
      method: "PATCH",
      token: tokens.accessToken,
      body: { name: "Ana" },
    });
    assert.equal(renamed.name, "Ana");
    await expectProblem(
      await c.call("/v1/me", {
        method: "PATCH",
        token: tokens.accessToken,
        body: { context: "admin" },
        expectViolation: true,
      }),
      400,
      "validation_failed",
    );
  });

  it("an ADMIN_EMAILS address logs in as admin; nobody becomes admin or tutor without a profile", async () => {
    const admin = await c.login(adminEmail("auth"));
    assert.equal(admin.user.context, "admin");
    const student = await c.login(email("bo"));
    await expectProblem(
      await c.call("/v1/me/context", { token: student.accessToken, body: { context: "tutor" } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await c.call("/v1/me/context", { token: student.accessToken, body: { context: "admin" }, expectViolation: true }),
      400,
      "validation_failed",
    );
  });

  it("answers 202 for unknown and known addresses alike, 400 for a malformed one", async () => {
    assert.equal((await c.call("/v1/auth/otp/request", { body: { email: email("nobody") } })).status, 202);
    await expectProblem(
      await c.call("/v1/auth/otp/request", { body: { email: "not-an-email" }, expectViolation: true }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await c.call("/v1/auth/otp/request", { body: {}, expectViolation: true }),
      400,
      "validation_failed",
    );
  });

  it("rate-limits code requests per address with 429 and Retry-After", async () => {
    const mail = email("spam");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await c.call("/v1/auth/otp/request", { body: { email: mail } });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get("retry-after");
    }
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429]);
    assert.ok(Number(retryAfter) > 0);
  });

  it("rotates refresh tokens; reusing a rotated one revokes the family", async () => {
    const first = await c.login(email("rot"));
    const second = await c.ok<Tokens>("/v1/auth/refresh", { body: { refreshToken: first.refreshToken } });
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.equal(second.user.id, first.user.id);
    // reuse of the rotated token: 401, and the whole family is revoked
    await expectProblem(
      await c.call("/v1/auth/refresh", { body: { refreshToken: first.refreshToken } }),
      401,
      "unauthorized",
    );
    await expectProblem(
      await c.call("/v1/auth/refresh", { body: { refreshToken: second.refreshToken } }),
      401,
      "unauthorized",
    );
  });

  it("concurrent refreshes of one token yield at most one new pair", async () => {
    const t = await c.login(email("race"));
    const results = await Promise.all(
      Array.from({ length: 4 }, () => c.call("/v1/auth/refresh", { body: { refreshToken: t.refreshToken } })),
    );
    assert.ok(results.filter((r) => r.status === 200).length <= 1, results.map((r) => r.status).join(","));
    for (const r of results) assert.ok(r.status === 200 || r.status === 401, String(r.status));
  });

  it("logout revokes the refresh token's family", async () => {
    const t = await c.login(email("out"));
    const r = await c.call("/v1/auth/logout", { token: t.accessToken, body: { refreshToken: t.refreshToken } });
    assert.equal(r.status, 204);
    await expectProblem(
      await c.call("/v1/auth/refresh", { body: { refreshToken: t.refreshToken } }),
      401,
      "unauthorized",
    );
  });

  it("refuses missing, tampered and alg=none tokens", async () => {
    const t = await c.login(email("tok"));
    await expectProblem(await c.call("/v1/me", { expectViolation: true }), 401, "unauthorized");
    const [h, p, s] = t.accessToken.split(".");
    await expectProblem(await c.call("/v1/me", { token: `${h}.${p}.${s?.slice(0, -4)}AAAA` }), 401, "unauthorized");
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${p}.`;
    await expectProblem(await c.call("/v1/me", { token: none }), 401, "unauthorized");
    await expectProblem(
      await c.call("/v1/me", { headers: { authorization: "Basic abc" }, expectViolation: true }),
      401,
      "unauthorized",
    );
  });
});
