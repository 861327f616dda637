/**
 * ADMIN_EMAILS is the one source of who is an admin: an admin whose address left the list is
 * demoted to `student` at the next login or refresh (the test config lists root@admin.test only).
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { call, createUser, env, expectProblem, json, uniqueEmail } from "../helpers/api";
import { insertOtp, login, refresh, type TokenPair, verify } from "./helpers";

const config = getConfig(env);
const contextOf = async (userId: string) =>
  (await env.DB.prepare("SELECT context FROM users WHERE id = ?").bind(userId).first<{ context: string }>())?.context;

describe("ADMIN_EMAILS demotion", () => {
  it("demotes an admin whose address is not listed to student at login", async () => {
    const admin = await createUser("admin", { email: uniqueEmail("delisted-admin") });
    expect(config.ADMIN_EMAILS).not.toContain(admin.email);
    const { code } = await insertOtp(admin.email);
    const res = await verify(admin.email, code);
    expect(res.status).toBe(200);
    const pair = await json<TokenPair>(res);
    expect(pair.user).toMatchObject({ id: admin.id, context: "student" });
    expect(decodeJwt(pair.accessToken).role).toBe("student");
    expect(await contextOf(admin.id)).toBe("student");
    await expectProblem(await call("/v1/admin/users", { token: pair.accessToken }), 403, "forbidden");
  });

  it("demotes at refresh: the refreshed pair carries role student", async () => {
    // Logged in while listed (simulated: the context is set after the login), then delisted.
    const pair = await login(uniqueEmail("delisted-on-refresh"));
    await env.DB.prepare("UPDATE users SET context = 'admin' WHERE id = ?").bind(pair.user.id).run();
    const res = await refresh(pair.refreshToken);
    expect(res.status).toBe(200);
    const next = await json<TokenPair>(res);
    expect(next.user.context).toBe("student");
    expect(decodeJwt(next.accessToken).role).toBe("student");
    expect(await contextOf(pair.user.id)).toBe("student");
  });

  it("keeps a listed admin an admin through login and refresh", async () => {
    const email = "root@admin.test";
    expect(config.ADMIN_EMAILS).toContain(email);
    const pair = await login(email);
    expect(pair.user.context).toBe("admin");
    const next = await json<TokenPair>(await refresh(pair.refreshToken));
    expect(decodeJwt(next.accessToken).role).toBe("admin");
  });

  it("leaves tutors and students of unlisted addresses as they are at refresh", async () => {
    const pair = await login(uniqueEmail("unlisted-tutor"));
    await env.DB.prepare("UPDATE users SET context = 'tutor' WHERE id = ?").bind(pair.user.id).run();
    const next = await json<TokenPair>(await refresh(pair.refreshToken));
    expect(decodeJwt(next.accessToken).role).toBe("tutor");
  });
});
