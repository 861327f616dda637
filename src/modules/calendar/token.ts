/**
 * The secret in a calendar feed URL. token = base64url(HMAC-SHA256(calendar-feed key, userId "\n"
 * nonce)), the key derived from JWT_SECRET for this purpose only (lib/keys.ts), so a feed token
 * can never pass for anything else. The `calendarFeeds` row keeps the random nonce (to show the
 * same URL again without storing it) and SHA-256 of the token (to find the row by its unique index).
 *
 * A token is good while it is the HMAC of its row's nonce under JWT_SECRET's key or
 * JWT_SECRET_PREVIOUS's: rotating a leaked JWT_SECRET (and later dropping the previous one)
 * closes every feed URL made with it, as it does every other token.
 */
import type { Config } from "../../config";
import { base64url, safeEqual, sha256Hex } from "../../lib/crypto";
import { signingKey, verificationKeys } from "../../lib/keys";

/** 32 bytes of HMAC in base64url, no padding. Anything else in the URL is not a token (404). */
export const FEED_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const encoder = new TextEncoder();

async function hmacToken(key: CryptoKey, userId: string, nonce: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${userId}\n${nonce}`));
  return base64url(new Uint8Array(mac));
}

/** A fresh nonce (rotation draws one): 128 random bits. */
export function newNonce(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** The token of (userId, nonce) under the current key, and the hash the row stores. */
export async function feedToken(config: Config, userId: string, nonce: string) {
  const token = await hmacToken((await signingKey(config, "calendar-feed")).key, userId, nonce);
  return { token, tokenHash: await tokenHash(token) };
}

export function tokenHash(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Whether `token` is the HMAC of (userId, nonce) under the current or the previous secret's key. */
export async function tokenMatches(config: Config, token: string, userId: string, nonce: string): Promise<boolean> {
  for (const { key } of await verificationKeys(config, "calendar-feed")) {
    if (safeEqual(await hmacToken(key, userId, nonce), token)) return true;
  }
  return false;
}
