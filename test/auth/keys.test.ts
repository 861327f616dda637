/**
 * Keys per purpose (lib/keys.ts): access tokens, login-code hashes and recording callback tokens
 * each have their own key derived from JWT_SECRET with HKDF, named by a kid; the keys of
 * JWT_SECRET_PREVIOUS still verify, anything else is refused.
 */
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Config, ConfigError, getConfig } from "../../src/config";
import { jobContext } from "../../src/jobs/context";
import { newId } from "../../src/lib/crypto";
import { otpHash, verifyOtp } from "../../src/modules/auth/otp";
import { signAccessToken, verifyAccessToken } from "../../src/modules/auth/tokens";
import { signCallbackToken, verifyCallbackToken } from "../../src/modules/recordings/callback-token";
import { call, createUser, env, expectProblem, uniqueEmail } from "../helpers/api";
import { derivedKey, insertOtp, uniqueIp } from "./helpers";

const config = getConfig(env);
const NEW_SECRET = "rotated-secret-rotated-secret-rotated-secret-42";
/** The configuration after a rotation: the test secret became the previous one. */
const rotated: Config = { ...config, JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: config.JWT_SECRET };
/** A configuration that never knew the test secret. */
const stranger: Config = { ...config, JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: undefined };

const nowSec = () => Math.floor(Date.now() / 1000);
const accessClaims = (sub: string) => ({
  sub,
  role: "student",
  iss: config.JWT_ISSUER,
  aud: config.JWT_AUDIENCE,
  iat: nowSec(),
  exp: nowSec() + 600,
});
const hs256 = (claims: Record<string, unknown>, key: Uint8Array, kid?: string) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) }).sign(key);
const kidOf = (token: string) => JSON.parse(atob(token.split(".")[0] ?? "")).kid as unknown;
const me = (token: string) => call("/v1/me", { token });

afterEach(() => vi.restoreAllMocks());

describe("access-token key", () => {
  it("signs with the HKDF-derived access-token key and names it in the header (kid)", async () => {
    const user = await createUser();
    const { bytes, kid } = await derivedKey(config.JWT_SECRET, "access-token");
    expect(kidOf(user.token)).toBe(kid);
    // A token signed with the independently derived key verifies: the derivation is as documented.
    expect((await me(await hs256(accessClaims(user.id), bytes, kid))).status).toBe(200);
  });

  it("accepts the contract's form (JWT_SECRET itself, no kid) and nothing else signed with JWT_SECRET", async () => {
    const user = await createUser();
    const raw = new TextEncoder().encode(config.JWT_SECRET);
    expect((await me(await hs256(accessClaims(user.id), raw))).status).toBe(200);
    // with a kid it must be that kid's key; another secret without a kid is a bad signature
    const { kid } = await derivedKey(config.JWT_SECRET, "access-token");
    await expectProblem(await me(await hs256(accessClaims(user.id), raw, kid)), 401, "unauthorized");
    const other = new TextEncoder().encode(NEW_SECRET);
    await expectProblem(await me(await hs256(accessClaims(user.id), other)), 401, "unauthorized");
  });

  it("refuses a token with an unknown kid, without a kid, or signed with another purpose's key", async () => {
    const user = await createUser();
    const access = await derivedKey(config.JWT_SECRET, "access-token");
    const callback = await derivedKey(config.JWT_SECRET, "recording-callback");
    const otp = await derivedKey(config.JWT_SECRET, "otp-code");
    expect(new Set([access.kid, callback.kid, otp.kid]).size).toBe(3);
    await expectProblem(await me(await hs256(accessClaims(user.id), access.bytes, "k-unknown")), 401, "unauthorized");
    await expectProblem(await me(await hs256(accessClaims(user.id), access.bytes)), 401, "unauthorized");
    for (const other of [callback, otp]) {
      await expectProblem(await me(await hs256(accessClaims(user.id), other.bytes, other.kid)), 401, "unauthorized");
      // Another purpose's key under the access kid: a bad signature.
      await expectProblem(await me(await hs256(accessClaims(user.id), other.bytes, access.kid)), 401, "unauthorized");
    }
  });

  it("still verifies tokens of JWT_SECRET_PREVIOUS after a rotation, and signs only with the new key", async () => {
    const old = await signAccessToken(config, { sub: "usr_x", role: "student" });
    expect(await verifyAccessToken(rotated, old)).toEqual({ sub: "usr_x", role: "student" });
    await expect(verifyAccessToken(stranger, old)).rejects.toMatchObject({ code: "unauthorized" });
    const fresh = await signAccessToken(rotated, { sub: "usr_x", role: "tutor", sid: "fam_1" });
    expect(kidOf(fresh)).toBe((await derivedKey(NEW_SECRET, "access-token")).kid);
    expect(await verifyAccessToken(rotated, fresh)).toEqual({ sub: "usr_x", role: "tutor", sid: "fam_1" });
    // The old configuration does not know the new key.
    await expect(verifyAccessToken(config, fresh)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("derives each key once per isolate, not per request", async () => {
    const token = await signAccessToken(rotated, { sub: "usr_cache", role: "student" });
    await verifyAccessToken(rotated, token);
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const deriveBits = vi.spyOn(crypto.subtle, "deriveBits");
    for (let i = 0; i < 3; i++)
      await verifyAccessToken(rotated, await signAccessToken(rotated, { sub: "u", role: "student" }));
    expect(importKey).not.toHaveBeenCalled();
    expect(deriveBits).not.toHaveBeenCalled();
    // Control: a secret not seen before is derived (and the spies see it).
    await signAccessToken({ ...rotated, JWT_SECRET: `${NEW_SECRET}-control` }, { sub: "u", role: "student" });
    expect(deriveBits).toHaveBeenCalledTimes(1);
  });

  it("refuses a JWT_SECRET_PREVIOUS shorter than 32 characters at startup", () => {
    expect(() => getConfig({ ...env, JWT_SECRET_PREVIOUS: "too-short" })).toThrow(ConfigError);
    expect(() => getConfig({ ...env, JWT_SECRET_PREVIOUS: "too-short" })).toThrow(/JWT_SECRET_PREVIOUS/);
  });
});

describe("recording callback key", () => {
  it("signs callback tokens with their own key and kid; JWT_SECRET itself and the access key are refused", async () => {
    const token = await signCallbackToken(config, "rec_1");
    const callback = await derivedKey(config.JWT_SECRET, "recording-callback");
    expect(kidOf(token)).toBe(callback.kid);
    expect(await verifyCallbackToken(config, token)).toBe("rec_1");
    const claims = {
      sub: "rec_1",
      iss: config.JWT_ISSUER,
      aud: "deepgram-callback",
      iat: nowSec(),
      exp: nowSec() + 60,
    };
    const access = await derivedKey(config.JWT_SECRET, "access-token");
    expect(await verifyCallbackToken(config, await hs256(claims, callback.bytes, callback.kid))).toBe("rec_1");
    expect(
      await verifyCallbackToken(config, await hs256(claims, new TextEncoder().encode(config.JWT_SECRET))),
    ).toBeNull();
    expect(await verifyCallbackToken(config, await hs256(claims, access.bytes, access.kid))).toBeNull();
    expect(await verifyCallbackToken(config, await hs256(claims, access.bytes, callback.kid))).toBeNull();
  });

  it("still verifies a callback token of JWT_SECRET_PREVIOUS after a rotation", async () => {
    const token = await signCallbackToken(config, "rec_2");
    expect(await verifyCallbackToken(rotated, token)).toBe("rec_2");
    expect(await verifyCallbackToken(stranger, token)).toBeNull();
  });
});

describe("login-code key", () => {
  it("stores codes as <kid>:HMAC under the otp-code key, not under JWT_SECRET", async () => {
    const id = newId("otp");
    const stored = await otpHash(config, id, "123456");
    const { bytes, kid } = await derivedKey(config.JWT_SECRET, "otp-code");
    const expected = async (key: Uint8Array) => {
      const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const mac = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(`otp:${id}:123456`));
      return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    };
    expect(stored).toBe(`${kid}:${await expected(bytes)}`);
    expect(stored).not.toContain(await expected(new TextEncoder().encode(config.JWT_SECRET)));
  });

  it("accepts a live code issued before a rotation (JWT_SECRET_PREVIOUS), and refuses one of an unknown key", async () => {
    const svc = await jobContext(env, "test");
    const before = uniqueEmail("rotated-code");
    const { code } = await insertOtp(before);
    const pair = await verifyOtp({ ...svc, config: rotated }, before, code, uniqueIp());
    expect(pair.user.email).toBe(before);

    const lost = uniqueEmail("rotated-code-lost");
    const second = await insertOtp(lost);
    await expect(verifyOtp({ ...svc, config: stranger }, lost, second.code, uniqueIp())).rejects.toMatchObject({
      code: "unauthorized",
    });
    // A row whose hash names no kid (as stored before keys per purpose) is refused too.
    const legacy = uniqueEmail("legacy-code");
    const third = await insertOtp(legacy);
    await env.DB.prepare("UPDATE otpCodes SET codeHash = substr(codeHash, instr(codeHash, ':') + 1) WHERE id = ?")
      .bind(third.id)
      .run();
    await expect(verifyOtp(svc, legacy, third.code, uniqueIp())).rejects.toMatchObject({ code: "unauthorized" });
  });
});
