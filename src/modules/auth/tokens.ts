/**
 * Access tokens: HS256 JWTs signed with JWT_SECRET, or (when AUTH_JWKS_URL is set) tokens of an
 * external identity provider verified against its JWKS. Verification pins the algorithms, issuer
 * and audience and requires `exp`.
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { Config } from "../../config";
import { type UserContext, userContexts } from "../../db/schema";
import { DomainError } from "../../lib/errors";

const encoder = new TextEncoder();
const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * The HS256 verification key, imported once per secret (per isolate) instead of on every request:
 * `jwtVerify` with raw bytes runs `crypto.subtle.importKey` each time. Only settled keys are shared
 * across requests (never a pending promise of another request).
 */
const hmacKeys = new Map<string, CryptoKey>();
async function hmacVerifyKey(secret: string): Promise<CryptoKey> {
  const hit = hmacKeys.get(secret);
  if (hit) return hit;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  hmacKeys.set(secret, key);
  return key;
}
const ASYMMETRIC = ["RS256", "ES256", "EdDSA"];

export interface AccessClaims {
  sub: string;
  role: UserContext;
}

export async function signAccessToken(config: Config, claims: AccessClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ACCESS_TOKEN_TTL_SECONDS)
    .sign(encoder.encode(config.JWT_SECRET));
}

const unauthorized = (detail = "Invalid or expired access token") => new DomainError("unauthorized", detail);

export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  let payload: JWTPayload;
  try {
    const { alg } = decodeProtectedHeader(token);
    const options = {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      requiredClaims: ["exp", "sub"],
    };
    if (alg === "HS256") {
      ({ payload } = await jwtVerify(token, await hmacVerifyKey(config.JWT_SECRET), {
        ...options,
        algorithms: ["HS256"],
      }));
    } else if (config.AUTH_JWKS_URL && alg && ASYMMETRIC.includes(alg)) {
      let jwks = jwksCache.get(config.AUTH_JWKS_URL);
      if (!jwks) {
        jwks = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
        jwksCache.set(config.AUTH_JWKS_URL, jwks);
      }
      ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: ASYMMETRIC }));
    } else {
      throw unauthorized();
    }
  } catch {
    throw unauthorized();
  }
  const role = payload.role;
  if (typeof payload.sub !== "string" || !userContexts.includes(role as UserContext)) throw unauthorized();
  return { sub: payload.sub, role: role as UserContext };
}
