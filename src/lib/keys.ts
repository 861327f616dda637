/**
 * One key per purpose, derived from JWT_SECRET with HKDF-SHA256 (a distinct `info` per purpose):
 * a key used, leaked or misused for one purpose (say, a recording callback token in a URL) never
 * signs or verifies for another (an access token, a stored login-code hash).
 *
 * Every key has a `kid`, computed from the key itself, carried in the header of the tokens it
 * signs and as the prefix of the hashes it makes. The keys of JWT_SECRET_PREVIOUS (optional) still
 * verify but never sign, so JWT_SECRET can be rotated without logging anyone out; anything whose
 * kid is neither key's is refused.
 *
 * One exception, the API contract's own form of an access token: HS256 with JWT_SECRET itself and
 * no `kid` (what a service sharing the secret mints, as the contract describes). `contractKey`
 * verifies those, never signs; JWT_SECRET is used as a key for nothing else, so accepting it
 * lets no other purpose's key or token pass for an access token.
 */

// No runtime imports: node tooling (bench/) imports this file as it is to sign like the Worker.

/** The secrets keys derive from (Config has them). */
export interface KeySecrets {
  JWT_SECRET: string;
  JWT_SECRET_PREVIOUS?: string | undefined;
}

/** Web Crypto's key type, named so for both the Worker's and node's type definitions. */
type CryptoKeyOf = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export type KeyPurpose = "access-token" | "otp-code" | "recording-callback" | "calendar-feed";

export interface PurposeKey {
  /** Public, short id of the key: the first 64 bits of SHA-256 of its bytes, in hex. */
  kid: string;
  /** HMAC-SHA256, non-extractable, for sign and verify. */
  key: CryptoKeyOf;
}

const encoder = new TextEncoder();
/** Changing the salt or an `info` changes every key: all tokens and live codes become invalid. */
const SALT = encoder.encode("tutorloop/keys/v1");
const info = (purpose: KeyPurpose) => encoder.encode(`tutorloop/${purpose}/v1`);

/**
 * Derived keys, per purpose and secret, for the isolate's lifetime: HKDF plus two imports per
 * request would cost more than the HMAC itself. Only settled keys are shared across requests
 * (never a pending promise of another request).
 */
const cache = new Map<string, PurposeKey>();

async function derive(secret: string, purpose: KeyPurpose): Promise<PurposeKey> {
  const cacheKey = `${purpose}\n${secret}`;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const master = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: SALT, info: info(purpose) },
    master,
    256,
  );
  const key = await crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bits)).subarray(0, 8);
  const derived = { kid: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""), key };
  cache.set(cacheKey, derived);
  return derived;
}

/** The key that signs (or hashes) for `purpose` now: JWT_SECRET's. */
export function signingKey(config: KeySecrets, purpose: KeyPurpose): Promise<PurposeKey> {
  return derive(config.JWT_SECRET, purpose);
}

/**
 * The keys of `purpose` that still verify, JWT_SECRET's first: for a secret carried without a kid
 * (the calendar feed's token is a bare HMAC in a URL), which is tried against each.
 */
export async function verificationKeys(config: KeySecrets, purpose: KeyPurpose): Promise<PurposeKey[]> {
  const secrets = [config.JWT_SECRET, config.JWT_SECRET_PREVIOUS].filter((s): s is string => !!s);
  return Promise.all(secrets.map((secret) => derive(secret, purpose)));
}

/** The key of `purpose` whose id is `kid` (JWT_SECRET's or JWT_SECRET_PREVIOUS's), or null. */
export async function verificationKey(
  config: KeySecrets,
  purpose: KeyPurpose,
  kid: unknown,
): Promise<CryptoKeyOf | null> {
  if (typeof kid !== "string") return null;
  for (const secret of [config.JWT_SECRET, config.JWT_SECRET_PREVIOUS]) {
    if (!secret) continue;
    const candidate = await derive(secret, purpose);
    if (candidate.kid === kid) return candidate.key;
  }
  return null;
}

const contractKeys = new Map<string, CryptoKeyOf>();

/** JWT_SECRET itself as an HMAC verification key, for kid-less access tokens (see above). */
export async function contractKey(config: KeySecrets): Promise<CryptoKeyOf> {
  const hit = contractKeys.get(config.JWT_SECRET);
  if (hit) return hit;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(config.JWT_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  contractKeys.set(config.JWT_SECRET, key);
  return key;
}
