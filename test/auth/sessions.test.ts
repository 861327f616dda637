/**
 * Sessions (refresh-token families): logout everywhere, a context switch rotates within the
 * caller's session instead of starting another, and a session's absolute lifetime.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/lib/crypto";
import { REFRESH_TTL_MS } from "../../src/modules/auth/service";
import { call, createUser, env, expectProblem, json, uniqueEmail } from "../helpers/api";
import { login, refresh, refreshRow, type TokenPair } from "./helpers";

const logout = (accessToken: string, refreshToken: string) =>
  call("/v1/auth/logout", { token: accessToken, body: { refreshToken } });
const logoutAll = (accessToken: string | undefined) =>
  call("/v1/auth/logout-all", { method: "POST", token: accessToken });
const switchTo = (accessToken: string, context: "student" | "tutor") =>
  call("/v1/me/context", { token: accessToken, body: { context } });

async function ok(res: Response): Promise<TokenPair> {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status} ${await res.text()}`);
  return json<TokenPair>(res);
}

/** Gives the logged-in user a tutor profile (written directly; the tutor routes are tested elsewhere). */
async function giveTutorProfile(userId: string) {
  const id = newId("tut");
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO tutorProfiles (id, userId, displayName, bio, subjects, hourlyCreditsPrice, createdAt, updatedAt) VALUES (?, ?, 'Tutor', 'Bio', '[]', 2, ?, ?)",
    ).bind(id, userId, now, now),
    env.DB.prepare("UPDATE users SET tutorProfileId = ? WHERE id = ?").bind(id, userId),
  ]);
}

describe("POST /v1/auth/logout-all", () => {
  it("answers 204 and revokes every refresh token of the caller, on every device; other users keep theirs", async () => {
    const email = uniqueEmail("logout-all");
    const laptop = await login(email);
    const phone = await login(email);
    const phone2 = await ok(await refresh(phone.refreshToken));
    const other = await login(uniqueEmail("logout-all-other"));

    const res = await logoutAll(laptop.accessToken);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    for (const token of [laptop.refreshToken, phone.refreshToken, phone2.refreshToken]) {
      await expectProblem(await refresh(token), 401, "unauthorized");
    }
    expect((await refreshRow(phone2.refreshToken))?.revokedAt).toEqual(expect.any(Number));
    expect((await refresh(other.refreshToken)).status).toBe(200);
    // Idempotent, and a new login afterwards is a new, working session.
    expect((await logoutAll(laptop.accessToken)).status).toBe(204);
    expect((await refresh((await login(email)).refreshToken)).status).toBe(200);
  });

  it("needs an access token (401)", async () => {
    const pair = await login(uniqueEmail("logout-all-anon"));
    await expectProblem(await logoutAll(undefined), 401, "unauthorized");
    expect((await refresh(pair.refreshToken)).status).toBe(200);
  });

  it("never leaves a working token behind a concurrent refresh", async () => {
    for (let round = 0; round < 10; round++) {
      const r1 = await login(uniqueEmail("logout-all-race"));
      const [rotated, out] = await Promise.all([refresh(r1.refreshToken), logoutAll(r1.accessToken)]);
      expect(out.status).toBe(204);
      if (rotated.status === 200) {
        await expectProblem(await refresh((await json<TokenPair>(rotated)).refreshToken), 401, "unauthorized");
      } else {
        await expectProblem(rotated, 401, "unauthorized");
      }
    }
  });
});

describe("POST /v1/me/context rotates within the caller's session", () => {
  it("keeps the family: logging out of the new pair also ends the pair from before the switch", async () => {
    const login1 = await login(uniqueEmail("switch-family"));
    await giveTutorProfile(login1.user.id);
    const tutor = await ok(await switchTo(login1.accessToken, "tutor"));
    expect((await refreshRow(tutor.refreshToken))?.familyId).toBe((await refreshRow(login1.refreshToken))?.familyId);
    expect(decodeJwt(tutor.accessToken).sid).toBe((await refreshRow(login1.refreshToken))?.familyId);

    expect((await logout(tutor.accessToken, tutor.refreshToken)).status).toBe(204);
    await expectProblem(await refresh(login1.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(tutor.refreshToken), 401, "unauthorized");
  });

  it("rotates: the refresh token from before the switch stops working, and replaying it ends the session", async () => {
    const login1 = await login(uniqueEmail("switch-rotate"));
    await giveTutorProfile(login1.user.id);
    const tutor = await ok(await switchTo(login1.accessToken, "tutor"));
    await expectProblem(await refresh(login1.refreshToken), 401, "unauthorized");
    await expectProblem(await refresh(tutor.refreshToken), 401, "unauthorized");
  });

  it("works through several switches and refreshes: one family, one live token", async () => {
    const login1 = await login(uniqueEmail("switch-many"));
    await giveTutorProfile(login1.user.id);
    const a = await ok(await switchTo(login1.accessToken, "tutor"));
    const b = await ok(await refresh(a.refreshToken));
    expect(decodeJwt(b.accessToken)).toMatchObject({ role: "tutor", sid: decodeJwt(a.accessToken).sid });
    const c = await ok(await switchTo(b.accessToken, "student"));
    const family = (await refreshRow(login1.refreshToken))?.familyId;
    const live = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM refreshTokens WHERE familyId = ? AND rotatedAt IS NULL AND revokedAt IS NULL",
    )
      .bind(family)
      .first<{ n: number }>();
    expect(live?.n).toBe(1);
    expect((await refreshRow(c.refreshToken))?.familyId).toBe(family);
  });

  it("refuses a switch (401, context unchanged) with the access token of a session that was logged out", async () => {
    const login1 = await login(uniqueEmail("switch-after-logout"));
    await giveTutorProfile(login1.user.id);
    expect((await logout(login1.accessToken, login1.refreshToken)).status).toBe(204);
    // The access token is still valid for its 15 minutes, but it cannot mint a new session.
    await expectProblem(await switchTo(login1.accessToken, "tutor"), 401, "unauthorized");
    const me = await json(await call("/v1/me", { token: login1.accessToken }));
    expect(me.context).toBe("student");
  });

  it("refuses a switch after logout-all", async () => {
    const login1 = await login(uniqueEmail("switch-after-logout-all"));
    await giveTutorProfile(login1.user.id);
    expect((await logoutAll(login1.accessToken)).status).toBe(204);
    await expectProblem(await switchTo(login1.accessToken, "tutor"), 401, "unauthorized");
  });

  it("starts a session for an access token that names none (an identity provider's, or minted without one)", async () => {
    const user = await createUser("student");
    const pair = await ok(await switchTo(user.token, "student"));
    expect((await refresh(pair.refreshToken)).status).toBe(200);
  });
});

describe("absolute refresh lifetime", () => {
  it("starts the family at login and carries its start through every rotation and switch", async () => {
    const started = Date.now();
    const login1 = await login(uniqueEmail("lifetime"));
    await giveTutorProfile(login1.user.id);
    const first = await refreshRow(login1.refreshToken);
    expect(first?.familyStartedAt).toBeGreaterThanOrEqual(started);
    expect(first?.expiresAt).toBe((first?.familyStartedAt ?? 0) + REFRESH_TTL_MS);

    const r2 = await ok(await refresh(login1.refreshToken));
    const r3 = await ok(await switchTo(r2.accessToken, "tutor"));
    const r4 = await ok(await refresh(r3.refreshToken));
    for (const t of [r2, r3, r4]) {
      expect(await refreshRow(t.refreshToken)).toMatchObject({
        familyStartedAt: first?.familyStartedAt,
        expiresAt: first?.expiresAt,
      });
    }
  });

  it("ends the family 30 days after its start, however recently it was rotated", async () => {
    const login1 = await login(uniqueEmail("lifetime-end"));
    await giveTutorProfile(login1.user.id);
    const r2 = await ok(await refresh(login1.refreshToken));
    // The family started 30 days ago; its live token was rotated just now and (as a token issued
    // before the absolute lifetime existed would) still has a later expiresAt.
    const family = (await refreshRow(r2.refreshToken))?.familyId;
    await env.DB.prepare("UPDATE refreshTokens SET familyStartedAt = ?, expiresAt = ? WHERE familyId = ?")
      .bind(Date.now() - REFRESH_TTL_MS - 1000, Date.now() + REFRESH_TTL_MS, family)
      .run();
    await expectProblem(await refresh(r2.refreshToken), 401, "unauthorized");
    await expectProblem(await switchTo(r2.accessToken, "tutor"), 401, "unauthorized");
  });
});
