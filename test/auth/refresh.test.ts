import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { REFRESH_TTL_MS } from "../../src/modules/auth/service";
import { call, createUser, env, expectProblem, json, uniqueEmail } from "../helpers/api";
import { login, refresh, refreshRow, type TokenPair } from "./helpers";

const config = getConfig(env);

const logout = (accessToken: string | undefined, refreshToken: unknown) =>
  call("/v1/auth/logout", { token: accessToken, body: { refreshToken } });

async function refreshOk(token: string): Promise<TokenPair> {
  const res = await refresh(token);
  if (res.status !== 200) throw new Error(`refresh failed: ${res.status} ${await res.text()}`);
  return json<TokenPair>(res);
}

describe("POST /v1/auth/refresh", () => {
  it("returns a new pair for the same user; the old refresh token then stops working", async () => {
    const loginStart = Date.now();
    const first = await login(uniqueEmail("refresh"));
    const res = await refresh(first.refreshToken);
    expect(res.status).toBe(200);
    const second = await json<TokenPair>(res);
    expect(second).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
      user: first.user,
    });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(decodeJwt(second.accessToken)).toMatchObject({ sub: first.user.id, role: "student" });

    // The new access token works.
    const me = await call("/v1/me", { token: second.accessToken });
    expect(me.status).toBe(200);

    // Refresh tokens live 30 days from the login and stay in the same family: rotation never
    // extends the family's lifetime (sessions.test.ts).
    const oldRow = await refreshRow(first.refreshToken);
    const newRow = await refreshRow(second.refreshToken);
    expect(newRow?.familyId).toBe(oldRow?.familyId);
    expect(oldRow?.expiresAt).toBeGreaterThanOrEqual(loginStart + REFRESH_TTL_MS);
    expect(newRow?.expiresAt).toBe(oldRow?.expiresAt);
    expect(REFRESH_TTL_MS).toBe(30 * 24 * 60 * 60 * 1000);
    expect(oldRow?.rotatedAt).toEqual(expect.any(Number));

    // Rotation: the old token is spent.
    await expectProblem(await refresh(first.refreshToken), 401, "unauthorized");
  });

  it("stores refresh tokens only as hashes", async () => {
    const pair = await login(uniqueEmail("refresh-hash"));
    const found = await env.DB.prepare("SELECT COUNT(*) AS n FROM refreshTokens WHERE tokenHash = ?")
      .bind(pair.refreshToken)
      .first<{ n: number }>();
    expect(found?.n).toBe(0);
    expect(await refreshRow(pair.refreshToken)).not.toBeNull();
  });

  it("revokes the whole family when a rotated token is reused: the newest token stops working too", async () => {
    const r1 = await login(uniqueEmail("reuse"));
    const r2 = await refreshOk(r1.refreshToken);
    const r3 = await refreshOk(r2.refreshToken);
    // r1 is presented again (stolen): 401 and the family is gone.
    await expectProblem(await refresh(r1.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(r3.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(r2.refreshToken), 401, "unauthorized");
    const row = await refreshRow(r3.refreshToken);
    expect(row?.revokedAt).toEqual(expect.any(Number));
  });

  it("leaves the user's other families (other devices) alone when one family is revoked", async () => {
    const email = uniqueEmail("two-devices");
    const laptop = await login(email);
    const phone = await login(email);
    const laptop2 = await refreshOk(laptop.refreshToken);
    await expectProblem(await refresh(laptop.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(laptop2.refreshToken), 401, "unauthorized");
    const phone2 = await refreshOk(phone.refreshToken);
    expect(phone2.user.id).toBe(phone.user.id);
  });

  it("lets at most one of two parallel refreshes with the same token succeed", async () => {
    const pair = await login(uniqueEmail("refresh-race"));
    const results = await Promise.all([refresh(pair.refreshToken), refresh(pair.refreshToken)]);
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 200)) await expectProblem(r, 401, "unauthorized");
    await expectProblem(await refresh(pair.refreshToken), 401, "unauthorized");
  });

  it("never leaves a working token in a family revoked by a concurrent reuse", async () => {
    for (let round = 0; round < 10; round++) {
      const r1 = await login(uniqueEmail("reuse-race"));
      const r2 = await refreshOk(r1.refreshToken);
      // The thief replays r1 while the owner rotates r2.
      const [owner, thief] = await Promise.all([refresh(r2.refreshToken), refresh(r1.refreshToken)]);
      await expectProblem(thief, 401, "unauthorized");
      if (owner.status === 200) {
        const r3 = await json<TokenPair>(owner);
        await expectProblem(await refresh(r3.refreshToken), 401, "unauthorized");
      } else {
        await expectProblem(owner, 401, "unauthorized");
      }
    }
  });

  it("never leaves a working token in a family logged out concurrently", async () => {
    for (let round = 0; round < 10; round++) {
      const r1 = await login(uniqueEmail("logout-race"));
      const [rotated, out] = await Promise.all([refresh(r1.refreshToken), logout(r1.accessToken, r1.refreshToken)]);
      expect(out.status).toBe(204);
      if (rotated.status === 200) {
        const r2 = await json<TokenPair>(rotated);
        await expectProblem(await refresh(r2.refreshToken), 401, "unauthorized");
      } else {
        await expectProblem(rotated, 401, "unauthorized");
      }
    }
  });

  it("refuses an expired refresh token", async () => {
    const pair = await login(uniqueEmail("refresh-expired"));
    const row = await refreshRow(pair.refreshToken);
    await env.DB.prepare("UPDATE refreshTokens SET expiresAt = ? WHERE id = ?")
      .bind(Date.now() - 1, row?.id)
      .run();
    await expectProblem(await refresh(pair.refreshToken), 401, "unauthorized");
  });

  it("refuses the refresh token of a deleted user", async () => {
    const pair = await login(uniqueEmail("refresh-deleted"));
    await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(pair.user.id).run();
    await expectProblem(await refresh(pair.refreshToken), 401, "unauthorized");
  });

  it.each([
    ["a random string", "rt_not-a-real-token"],
    ["an access token", "ACCESS"],
    ["a single character", "x"],
  ])("refuses %s with 401", async (_name, token) => {
    const pair = await login(uniqueEmail("refresh-garbage"));
    await expectProblem(await refresh(token === "ACCESS" ? pair.accessToken : token), 401, "unauthorized");
    // The real token is unaffected.
    expect((await refresh(pair.refreshToken)).status).toBe(200);
  });

  it.each([
    [{}, "refreshToken"],
    [{ refreshToken: "" }, "refreshToken"],
    [{ refreshToken: 123 }, "refreshToken"],
    [{ refreshToken: null }, "refreshToken"],
    [{ refreshToken: "x".repeat(513) }, "refreshToken"],
    [{ refreshToken: "rt_abc", userId: "usr_1" }, "userId"],
  ])("rejects the body %j with 400", async (body, path) => {
    const problem = await expectProblem(await call("/v1/auth/refresh", { body }), 400, "validation_failed");
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it("rejects malformed JSON (400), a non-JSON body (415) and GET (405)", async () => {
    await expectProblem(
      await call("/v1/auth/refresh", {
        method: "POST",
        rawBody: '{"refreshToken":',
        headers: { "content-type": "application/json" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/auth/refresh", {
        method: "POST",
        rawBody: "refreshToken=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(await call("/v1/auth/refresh"), 405, "method_not_allowed");
  });
});

describe("POST /v1/auth/logout", () => {
  it("answers 204 and revokes the family: the refresh token (and its successors) stop working", async () => {
    const r1 = await login(uniqueEmail("logout"));
    const r2 = await refreshOk(r1.refreshToken);
    const res = await logout(r2.accessToken, r2.refreshToken);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await refresh(r2.refreshToken), 401, "unauthorized");
    const row = await refreshRow(r2.refreshToken);
    expect(row?.revokedAt).toEqual(expect.any(Number));
  });

  it("revokes the family also when given an older (rotated) token of it", async () => {
    const r1 = await login(uniqueEmail("logout-old"));
    const r2 = await refreshOk(r1.refreshToken);
    expect((await logout(r2.accessToken, r1.refreshToken)).status).toBe(204);
    await expectProblem(await refresh(r2.refreshToken), 401, "unauthorized");
  });

  it("only logs out that family", async () => {
    const email = uniqueEmail("logout-one");
    const a = await login(email);
    const b = await login(email);
    expect((await logout(a.accessToken, a.refreshToken)).status).toBe(204);
    await expectProblem(await refresh(a.refreshToken), 401, "unauthorized");
    expect((await refresh(b.refreshToken)).status).toBe(200);
  });

  it("needs an access token (401) and then revokes nothing", async () => {
    const pair = await login(uniqueEmail("logout-anon"));
    await expectProblem(await logout(undefined, pair.refreshToken), 401, "unauthorized");
    await expectProblem(await logout("not-a-jwt", pair.refreshToken), 401, "unauthorized");
    expect((await refresh(pair.refreshToken)).status).toBe(200);
  });

  it("cannot revoke another user's refresh token", async () => {
    const victim = await login(uniqueEmail("logout-victim"));
    const attacker = await createUser();
    const res = await logout(attacker.token, victim.refreshToken);
    expect([204, 404]).toContain(res.status);
    expect((await refresh(victim.refreshToken)).status).toBe(200);
  });

  it("answers 204 for an unknown or already revoked token", async () => {
    const pair = await login(uniqueEmail("logout-twice"));
    expect((await logout(pair.accessToken, pair.refreshToken)).status).toBe(204);
    expect((await logout(pair.accessToken, pair.refreshToken)).status).toBe(204);
    expect((await logout(pair.accessToken, "rt_unknown")).status).toBe(204);
  });

  it.each([[{}], [{ refreshToken: "" }], [{ refreshToken: 1 }], [{ refreshToken: "rt_x", all: true }]])(
    "rejects the body %j with 400",
    async (body) => {
      const user = await createUser();
      await expectProblem(await call("/v1/auth/logout", { token: user.token, body }), 400, "validation_failed");
    },
  );
});
