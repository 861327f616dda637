/** Helpers for the auth tests: OTP rows written straight to D1, logins, refresh-token rows. */
import { getConfig } from "../../src/config";
import { newId, sha256Hex } from "../../src/lib/crypto";
import { OTP_TTL_MS, otpHash } from "../../src/modules/auth/otp";
import { call, env, eventually, fakeRequests, json } from "../helpers/api";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: {
    id: string;
    email: string;
    name: string | null;
    context: "student" | "tutor" | "admin";
    studentProfileId: string | null;
    tutorProfileId: string | null;
    createdAt: number;
    updatedAt: number;
  };
}

/** A client IP no other test uses, so the per-IP rate limit never leaks between tests. */
export const uniqueIp = () => {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
};

/** Six random digits. */
export const randomCode = () =>
  String((crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) % 1_000_000).padStart(6, "0");

/** A six-digit code that is certainly not `code`. */
export const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

/**
 * Writes a one-time code for `email` exactly as the service stores it (HMAC of id and code), so a
 * test can verify without waiting for the e-mail. Returns the row id and the clear code.
 */
export async function insertOtp(
  email: string,
  opts: { code?: string; expiresAt?: number; createdAt?: number; attempts?: number } = {},
): Promise<{ id: string; code: string }> {
  const now = Date.now();
  const id = newId("otp");
  const code = opts.code ?? randomCode();
  await env.DB.prepare(
    "INSERT INTO otpCodes (id, email, codeHash, attempts, expiresAt, consumedAt, createdAt) VALUES (?, ?, ?, ?, ?, NULL, ?)",
  )
    .bind(
      id,
      email,
      await otpHash(getConfig(env), id, code),
      opts.attempts ?? 0,
      opts.expiresAt ?? now + OTP_TTL_MS,
      opts.createdAt ?? now,
    )
    .run();
  return { id, code };
}

/** Verifies a code; from a fresh client IP unless told, so the per-IP verification limit never leaks between tests. */
export const verify = (email: string, code: string, ip = uniqueIp()) =>
  call("/v1/auth/otp/verify", { body: { email, code }, headers: { "cf-connecting-ip": ip } });

export const requestOtp = (email: string, ip: string) =>
  call("/v1/auth/otp/request", { body: { email }, headers: { "cf-connecting-ip": ip } });

/** Logs `email` in through a code written to D1; fails the test unless the login succeeds. */
export async function login(email: string): Promise<TokenPair> {
  const { code } = await insertOtp(email);
  const res = await verify(email, code);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return json<TokenPair>(res);
}

export const refresh = (refreshToken: unknown) => call("/v1/auth/refresh", { body: { refreshToken } });

/** The stored row of a refresh token (tokens are kept as SHA-256 hashes). */
export async function refreshRow(refreshToken: string) {
  return env.DB.prepare("SELECT * FROM refreshTokens WHERE tokenHash = ?")
    .bind(await sha256Hex(refreshToken))
    .first<{
      id: string;
      userId: string;
      familyId: string;
      expiresAt: number;
      familyStartedAt: number;
      rotatedAt: number | null;
      revokedAt: number | null;
    }>();
}

interface SentEmail {
  headers: Record<string, string>;
  body: { from: string; to: string[]; subject: string; text: string; html: string };
}

/** Waits until the fake Resend has received `count` e-mails to `email`, and returns them. */
export async function waitForEmails(email: string, count = 1, timeoutMs = 15_000): Promise<SentEmail[]> {
  return eventually(async () => {
    const reqs = await fakeRequests("/emails", email);
    const mails = reqs
      .filter((r) => r.method === "POST")
      .map((r) => ({ headers: r.headers, body: JSON.parse(r.body) as SentEmail["body"] }))
      .filter((m) => m.body.to.includes(email));
    return mails.length >= count ? mails : undefined;
  }, timeoutMs);
}

/** The one six-digit code in an OTP e-mail's text (and the same one in its subject and HTML). */
export function codeFrom(mail: SentEmail): string {
  const codes = mail.body.text.match(/\b\d{6}\b/g) ?? [];
  const unique = [...new Set(codes)];
  if (unique.length !== 1 || !unique[0]) throw new Error(`expected exactly one code in: ${mail.body.text}`);
  return unique[0];
}

/**
 * A purpose key's raw bytes and kid, derived here independently of src/lib/keys.ts from the
 * documented parameters (HKDF-SHA256, salt `tutorloop/keys/v1`, info `tutorloop/<purpose>/v1`;
 * kid: the first 8 bytes of SHA-256 of the key, in hex). A test signing with these bytes
 * pins the derivation: changing it would log everyone out on deploy.
 */
export async function derivedKey(
  secret: string,
  purpose: "access-token" | "otp-code" | "recording-callback" | "calendar-feed",
): Promise<{ bytes: Uint8Array; kid: string }> {
  const enc = new TextEncoder();
  const master = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: enc.encode("tutorloop/keys/v1"),
      info: enc.encode(`tutorloop/${purpose}/v1`),
    },
    master,
    256,
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bits)).subarray(0, 8);
  const kid = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes: new Uint8Array(bits), kid };
}
