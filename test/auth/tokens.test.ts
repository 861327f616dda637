import { decodeJwt, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import { newId } from "../../src/lib/crypto";
import { call, createUser, env, expectProblem, json, type TestUser, uniqueEmail } from "../helpers/api";
import { derivedKey, login, refresh, type TokenPair } from "./helpers";

const config = getConfig(env);
// The access-token key derived from JWT_SECRET and its kid (lib/keys.ts), as the API signs.
const { bytes: secret, kid } = await derivedKey(config.JWT_SECRET, "access-token");
const nowSec = () => Math.floor(Date.now() / 1000);

const b64url = (value: unknown) =>
  btoa(typeof value === "string" ? value : JSON.stringify(value))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replaceAll("=", "");

/** Claims of a valid access token for `user`, to be altered one at a time. */
const validClaims = (user: { id: string }, role = "student"): JWTPayload => ({
  sub: user.id,
  role,
  iss: config.JWT_ISSUER,
  aud: config.JWT_AUDIENCE,
  iat: nowSec(),
  exp: nowSec() + 600,
});

async function sign(
  payload: JWTPayload,
  opts: { alg?: string; key?: Uint8Array; header?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? "HS256", typ: "JWT", kid, ...(opts.header ?? {}) })
    .sign(opts.key ?? secret);
}

const me = (token: string) => call("/v1/me", { token });

async function expect401(res: Response) {
  const body = await expectProblem(res, 401, "unauthorized");
  expect(body).toMatchObject({ status: 401, title: expect.any(String), type: expect.any(String) });
  // Nothing about the reason leaks beyond a human sentence.
  expect(JSON.stringify(body)).not.toContain(config.JWT_SECRET);
}

describe("access token verification (GET /v1/me)", () => {
  it("accepts a hand-crafted token with valid claims (control for the cases below)", async () => {
    const user = await createUser();
    const res = await me(await sign(validClaims(user)));
    expect(res.status).toBe(200);
    expect((await json(res)).id).toBe(user.id);
  });

  it("rejects alg none (hand-crafted)", async () => {
    const user = await createUser();
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(validClaims(user))}.`;
    await expect401(await me(token));
    // Same with jose's own unsecured encoder, and with a stray signature appended.
    await expect401(await me(new UnsecuredJWT(validClaims(user)).encode()));
    await expect401(await me(`${token}c2ln`));
  });

  it("rejects alg none spelled in other cases", async () => {
    const user = await createUser();
    for (const alg of ["None", "NONE", "nOnE"]) {
      await expect401(await me(`${b64url({ alg, typ: "JWT" })}.${b64url(validClaims(user))}.`));
    }
  });

  it("rejects HS256 signed with a wrong key", async () => {
    const user = await createUser();
    const wrong = new TextEncoder().encode(`${config.JWT_SECRET}-but-not-quite`);
    await expect401(await me(await sign(validClaims(user), { key: wrong })));
  });

  it("rejects other HMAC algorithms even with the right key", async () => {
    const user = await createUser();
    await expect401(await me(await sign(validClaims(user), { alg: "HS384" })));
    await expect401(await me(await sign(validClaims(user), { alg: "HS512" })));
  });

  it("rejects an expired token", async () => {
    const user = await createUser();
    await expect401(await me(await sign({ ...validClaims(user), iat: nowSec() - 3600, exp: nowSec() - 60 })));
    await expect401(await me(await sign({ ...validClaims(user), iat: nowSec() - 3600, exp: nowSec() - 1 })));
  });

  it("rejects a token without exp", async () => {
    const user = await createUser();
    const { exp: _exp, ...claims } = validClaims(user);
    await expect401(await me(await sign(claims)));
  });

  it("rejects a token with a non-numeric exp", async () => {
    const user = await createUser();
    const token = `${b64url({ alg: "HS256", typ: "JWT", kid })}.${b64url({ ...validClaims(user), exp: "never" })}`;
    const mac = await crypto.subtle.sign(
      "HMAC",
      await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      new TextEncoder().encode(token),
    );
    const sig = b64url(String.fromCharCode(...new Uint8Array(mac)));
    await expect401(await me(`${token}.${sig}`));
  });

  it("rejects a wrong or missing issuer", async () => {
    const user = await createUser();
    await expect401(await me(await sign({ ...validClaims(user), iss: "someone-else" })));
    const { iss: _iss, ...noIss } = validClaims(user);
    await expect401(await me(await sign(noIss)));
  });

  it("rejects a wrong or missing audience", async () => {
    const user = await createUser();
    await expect401(await me(await sign({ ...validClaims(user), aud: "another-api" })));
    const { aud: _aud, ...noAud } = validClaims(user);
    await expect401(await me(await sign(noAud)));
  });

  it("rejects a token whose sub is missing or not a user", async () => {
    const user = await createUser();
    const { sub: _sub, ...noSub } = validClaims(user);
    await expect401(await me(await sign(noSub)));
    await expect401(await me(await sign({ ...validClaims(user), sub: newId("usr") })));
  });

  it("rejects a token whose user was deleted", async () => {
    const user = await createUser();
    expect((await me(user.token)).status).toBe(200);
    await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(user.id).run();
    await expect401(await me(user.token));
    await expect401(await call("/v1/me", { method: "PATCH", token: user.token, body: { name: "Ghost" } }));
    await expect401(await call("/v1/me/context", { token: user.token, body: { context: "student" } }));
  });

  it("rejects a token with an unknown or missing role", async () => {
    const user = await createUser();
    await expect401(await me(await sign({ ...validClaims(user), role: "superuser" })));
    const { role: _role, ...noRole } = validClaims(user);
    await expect401(await me(await sign(noRole)));
  });

  it("rejects a valid token whose payload was tampered with", async () => {
    const user = await createUser();
    const [header, , signature] = user.token.split(".");
    const forged = `${header}.${b64url({ ...decodeJwt(user.token), role: "admin" })}.${signature}`;
    await expect401(await me(forged));
  });

  it.each([
    ["a word", "garbage"],
    ["three dots of nothing", ".."],
    ["three parts of garbage", "a.b.c"],
    ["a header that is not JSON", `${b64url("not json")}.${b64url({ sub: "x" })}.sig`],
    ["two parts", `${b64url({ alg: "HS256" })}.${b64url({ sub: "x" })}`],
  ])("rejects a malformed token: %s", async (_name, token) => {
    await expect401(await me(token));
  });

  it("rejects requests without a Bearer token", async () => {
    const user = await createUser();
    await expect401(await call("/v1/me"));
    for (const authorization of [user.token, `Token ${user.token}`, `Basic ${btoa("a:b")}`, "Bearer", "Bearer "]) {
      await expect401(await call("/v1/me", { headers: { authorization } }));
    }
    const res = await call("/v1/me");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("accepts the scheme case-insensitively", async () => {
    const user = await createUser();
    expect((await call("/v1/me", { headers: { authorization: `bearer ${user.token}` } })).status).toBe(200);
  });
});

describe("GET /v1/me", () => {
  it("returns exactly the documented user shape", async () => {
    const user = await createUser();
    const res = await me(user.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(
      ["context", "createdAt", "email", "id", "name", "studentProfileId", "tutorProfileId", "updatedAt"].sort(),
    );
    expect(body).toEqual({
      id: user.id,
      email: user.email,
      name: null,
      context: "student",
      studentProfileId: user.studentProfileId,
      tutorProfileId: null,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect(Number.isInteger(body.createdAt)).toBe(true);
  });

  it("shows the logged-in user", async () => {
    const email = uniqueEmail("me-login");
    const pair = await login(email);
    const body = await json(await me(pair.accessToken));
    expect(body).toEqual(pair.user);
  });
});

describe("PATCH /v1/me", () => {
  it("updates the name and bumps updatedAt", async () => {
    const user = await createUser();
    const before = await json(await me(user.token));
    await new Promise((r) => setTimeout(r, 5));
    const res = await call("/v1/me", { method: "PATCH", token: user.token, body: { name: "  Ana Lima  " } });
    expect(res.status).toBe(200);
    const updated = await json(res);
    expect(updated).toEqual({ ...before, name: "Ana Lima", updatedAt: expect.any(Number) });
    expect(updated.updatedAt as number).toBeGreaterThan(before.updatedAt as number);
    expect(await json(await me(user.token))).toEqual(updated);
    const row = await env.DB.prepare("SELECT name FROM users WHERE id = ?").bind(user.id).first<{ name: string }>();
    expect(row?.name).toBe("Ana Lima");
  });

  it("changes only the caller", async () => {
    const a = await createUser();
    const b = await createUser();
    await call("/v1/me", { method: "PATCH", token: a.token, body: { name: "Only A" } });
    expect((await json(await me(b.token))).name).toBeNull();
  });

  it("accepts an empty body and changes nothing", async () => {
    const user = await createUser();
    const before = await json(await me(user.token));
    const res = await call("/v1/me", { method: "PATCH", token: user.token, body: {} });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(before);
  });

  it.each([
    [{ context: "admin" }, "context"],
    [{ name: "Ana", email: "x@y.test" }, "email"],
    [{ name: "Ana", tutorProfileId: "tut_1" }, "tutorProfileId"],
    [{ name: "" }, "name"],
    [{ name: "   " }, "name"],
    [{ name: "x".repeat(101) }, "name"],
    [{ name: 5 }, "name"],
  ])("rejects %j with 400 and changes nothing", async (body, path) => {
    const user = await createUser();
    const before = await json(await me(user.token));
    const problem = await expectProblem(
      await call("/v1/me", { method: "PATCH", token: user.token, body }),
      400,
      "validation_failed",
    );
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(await json(await me(user.token))).toEqual(before);
  });

  it("needs a token", async () => {
    await expect401(await call("/v1/me", { method: "PATCH", body: { name: "Anon" } }));
  });
});

describe("POST /v1/me/context", () => {
  async function giveTutorProfile(user: TestUser): Promise<string> {
    const tutorProfileId = newId("tut");
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO tutorProfiles (id, userId, displayName, bio, subjects, hourlyCreditsPrice, createdAt, updatedAt) VALUES (?, ?, ?, ?, '[]', 2, ?, ?)",
      ).bind(tutorProfileId, user.id, "Tutor", "Bio", now, now),
      env.DB.prepare("UPDATE users SET tutorProfileId = ? WHERE id = ?").bind(tutorProfileId, user.id),
    ]);
    return tutorProfileId;
  }

  const switchTo = (token: string, context: unknown) => call("/v1/me/context", { token, body: { context } });

  it("refuses tutor without a tutor profile (403) and leaves the context alone", async () => {
    const user = await createUser("student");
    await expectProblem(await switchTo(user.token, "tutor"), 403, "forbidden");
    expect((await json(await me(user.token))).context).toBe("student");
  });

  it("switches to tutor with a tutor profile: a new pair whose access token says tutor", async () => {
    const user = await createUser("student");
    const tutorProfileId = await giveTutorProfile(user);
    const res = await switchTo(user.token, "tutor");
    expect(res.status).toBe(200);
    const pair = await json<TokenPair>(res);
    expect(pair).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
      user: expect.objectContaining({ id: user.id, context: "tutor", tutorProfileId }),
    });
    const claims = decodeJwt(pair.accessToken);
    expect(claims).toMatchObject({ sub: user.id, role: "tutor", iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE });
    expect(decodeJwt(user.token).role).toBe("student");

    const row = await env.DB.prepare("SELECT context FROM users WHERE id = ?")
      .bind(user.id)
      .first<{ context: string }>();
    expect(row?.context).toBe("tutor");
    expect((await json(await me(pair.accessToken))).context).toBe("tutor");

    // The new refresh token works and keeps the tutor context.
    const refreshed = await refresh(pair.refreshToken);
    expect(refreshed.status).toBe(200);
    expect(decodeJwt((await json<TokenPair>(refreshed)).accessToken).role).toBe("tutor");

    // And back to student.
    const back = await switchTo(pair.accessToken, "student");
    expect(back.status).toBe(200);
    const backPair = await json<TokenPair>(back);
    expect(backPair.user.context).toBe("student");
    expect(decodeJwt(backPair.accessToken).role).toBe("student");
  });

  it("never makes anyone admin", async () => {
    const user = await createUser("student");
    await giveTutorProfile(user);
    await expectProblem(await switchTo(user.token, "admin"), 400, "validation_failed");
    expect((await json(await me(user.token))).context).toBe("student");
  });

  it.each([[{}], [{ context: "teacher" }], [{ context: "tutor", role: "admin" }], [{ context: 1 }]])(
    "rejects the body %j with 400",
    async (body) => {
      const user = await createUser("student");
      await expectProblem(await call("/v1/me/context", { token: user.token, body }), 400, "validation_failed");
    },
  );

  it("needs a token", async () => {
    await expect401(await call("/v1/me/context", { body: { context: "student" } }));
  });
});
