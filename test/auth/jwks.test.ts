/** AUTH_JWKS_URL: tokens of an external identity provider, verified against its JWKS. */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getConfig } from "../../src/config";
import { verifyAccessToken } from "../../src/modules/auth/tokens";

let JWKS_URL = "";

/** A fresh identity provider (its own URL, so jose's per-URL key cache never mixes providers). */
async function provider() {
  JWKS_URL = `https://idp-${crypto.randomUUID().slice(0, 8)}.test/.well-known/jwks.json`;
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === JWKS_URL) return Response.json({ keys: [jwk] });
    return realFetch(input, init);
  });
  return privateKey;
}

describe("external identity provider (AUTH_JWKS_URL)", () => {
  afterEach(() => vi.restoreAllMocks());
  const config = () => ({ ...getConfig(env), AUTH_JWKS_URL: JWKS_URL });
  const sign = (key: CryptoKey, claims: Record<string, unknown>, exp: string | number = "5m") =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setSubject("usr_external")
      .setIssuer(getConfig(env).JWT_ISSUER)
      .setAudience(getConfig(env).JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);

  it("accepts an ES256 token signed by a key of the JWKS", async () => {
    const key = await provider();
    expect(await verifyAccessToken(config(), await sign(key, { role: "student" }))).toEqual({
      sub: "usr_external",
      role: "student",
    });
  });

  it("rejects a token signed by another key, an expired one, and asymmetric tokens when no JWKS is configured", async () => {
    await provider();
    const { privateKey: stranger } = await generateKeyPair("ES256");
    await expect(verifyAccessToken(config(), await sign(stranger, { role: "student" }))).rejects.toMatchObject({
      code: "unauthorized",
    });
    const key = await provider();
    await expect(
      verifyAccessToken(config(), await sign(key, { role: "student" }, Math.floor(Date.now() / 1000) - 60)),
    ).rejects.toMatchObject({
      code: "unauthorized",
    });
    await expect(verifyAccessToken(getConfig(env), await sign(key, { role: "student" }))).rejects.toMatchObject({
      code: "unauthorized",
    });
  });
});
