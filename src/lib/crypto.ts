/** Small Web Crypto helpers (no Node crypto: this runs in workerd). */
const encoder = new TextEncoder();

export function toHex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard base64 (with padding). */
export function base64Encode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function base64url(bytes: Uint8Array): string {
  return base64Encode(bytes).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export async function sha256Hex(input: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
}

/** HMAC-SHA256 of `input` under an imported key (see lib/keys.ts: keys are derived and cached once). */
export async function hmacHex(key: CryptoKey, input: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(input)));
}

/** Constant-time comparison of two equal-length strings. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A uniformly random string of `length` decimal digits. */
export function randomDigits(length: number): string {
  let out = "";
  while (out.length < length) {
    const [n] = crypto.getRandomValues(new Uint32Array(1));
    // reject values above the largest multiple of 10 to avoid modulo bias
    if (n !== undefined && n < 4_294_967_290) out += String(n % 10);
  }
  return out;
}

/** Opaque ids: a time prefix keeps inserts index-friendly; the random part makes them unguessable. */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomToken(12)}`;
}
