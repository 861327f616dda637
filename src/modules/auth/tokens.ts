/**
 * Access tokens: HS256 JWTs signed with the access-token key derived from JWT_SECRET (lib/keys.ts;
 * its `kid` in the header, JWT_SECRET_PREVIOUS's key still verifies), or (when AUTH_JWKS_URL is
 * set) tokens of an external identity provider verified against its JWKS. Verification pins the
 * algorithms, issuer and audience and requires `exp`; an HS256 token whose kid is not one of our
 * keys is refused. An HS256 token without a kid is the contract's form (signed with JWT_SECRET
 * itself, by a service sharing the secret): verified with that secret, never signed with it.
 */
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { Config } from "../../config";
import { type UserContext, userContexts } from "../../db/schema";
import { DomainError } from "../../lib/errors";
import { contractKey, signingKey, verificationKey } from "../../lib/keys";

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
const ASYMMETRIC = ["RS256", "ES256", "EdDSA"];

export interface AccessClaims {
  sub: string;
  role: UserContext;
  /**
   * The refresh-token family (session) the token was issued with: a context switch rotates within
   * it. Only our own tokens carry it (an identity provider's `sid` means something else).
   */
  sid?: string;
}

export async function signAccessToken(config: Config, claims: AccessClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const { kid, key } = await signingKey(config, "access-token");
  return new SignJWT({ role: claims.role, ...(claims.sid ? { sid: claims.sid } : {}) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
    .setSubject(claims.sub)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.ACCESS_TOKEN_TTL_SECONDS)
    .sign(key);
}

const unauthorized = (detail = "Invalid or expired access token") => new DomainError("unauthorized", detail);

export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  let payload: JWTPayload;
  let own = false;
  try {
    const { alg, kid } = decodeProtectedHeader(token);
    const options = {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      requiredClaims: ["exp", "sub"],
    };
    if (alg === "HS256") {
      const key = kid === undefined ? await contractKey(config) : await verificationKey(config, "access-token", kid);
      if (!key) throw unauthorized();
      ({ payload } = await jwtVerify(token, key, { ...options, algorithms: ["HS256"] }));
      own = true;
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
  const sid = own && typeof payload.sid === "string" ? payload.sid : undefined;
  return { sub: payload.sub, role: role as UserContext, ...(sid ? { sid } : {}) };
}
