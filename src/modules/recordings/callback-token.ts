/**
 * The token in the Deepgram callback URL: an HS256 JWT for one recording (`sub` = recording id),
 * audience `deepgram-callback`, valid 24 hours, signed with the recording-callback key derived
 * from JWT_SECRET (lib/keys.ts; its `kid` in the header): a token that leaks with a URL can never
 * pass for an access token, nor the other way round.
 */
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import type { Config } from "../../config";
import { signingKey, verificationKey } from "../../lib/keys";

export const CALLBACK_AUDIENCE = "deepgram-callback";
export const CALLBACK_TTL_SECONDS = 24 * 3600;

export async function signCallbackToken(config: Config, recordingId: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const { kid, key } = await signingKey(config, "recording-callback");
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
    .setSubject(recordingId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(CALLBACK_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CALLBACK_TTL_SECONDS)
    .sign(key);
}

/** The recording id of a valid token, or null (bad signature, unknown kid, wrong audience, expired, malformed). */
export async function verifyCallbackToken(config: Config, token: string | undefined): Promise<string | null> {
  if (!token || token.length > 2000) return null;
  try {
    const key = await verificationKey(config, "recording-callback", decodeProtectedHeader(token).kid);
    if (!key) return null;
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: config.JWT_ISSUER,
      audience: CALLBACK_AUDIENCE,
      requiredClaims: ["exp", "sub"],
    });
    return typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : null;
  } catch {
    return null;
  }
}
