/**
 * The token in the Deepgram callback URL: an HS256 JWT (JWT_SECRET) for one recording
 * (`sub` = recording id), audience `deepgram-callback`, valid 24 hours.
 */
import { jwtVerify, SignJWT } from "jose";
import type { Config } from "../../config";

const encoder = new TextEncoder();
export const CALLBACK_AUDIENCE = "deepgram-callback";
export const CALLBACK_TTL_SECONDS = 24 * 3600;

export async function signCallbackToken(config: Config, recordingId: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(recordingId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(CALLBACK_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CALLBACK_TTL_SECONDS)
    .sign(encoder.encode(config.JWT_SECRET));
}

/** The recording id of a valid token, or null (bad signature, wrong audience, expired, malformed). */
export async function verifyCallbackToken(config: Config, token: string | undefined): Promise<string | null> {
  if (!token || token.length > 2000) return null;
  try {
    const { payload } = await jwtVerify(token, encoder.encode(config.JWT_SECRET), {
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
