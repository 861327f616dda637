/**
 * The client's IP as a rate-limit bucket key: the one place that decides who "one client" is.
 *
 * - Only `cf-connecting-ip` counts. Cloudflare sets it on every request that reaches the Worker and
 *   overwrites whatever the client sent; `x-real-ip` and `x-forwarded-for` are client-controlled, so
 *   trusting them would hand every caller a fresh bucket per request.
 * - An IPv6 client is its /64: a subscriber gets at least a /64 and can rotate through 2^64
 *   addresses, so per-address buckets would not limit anyone. The key is the normalized prefix
 *   (`2001:db8:85a3:42::/64`: `::` expanded, lower case, no leading zeros).
 * - An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is that IPv4 address.
 * - No header, or a value that is not one address, gives the one shared key `unknown`. Production
 *   always has the header; under vitest requests arrive without it, and `wrangler dev` sets it to the
 *   connecting socket's address (127.0.0.1) unless the client sends one.
 */

export const UNKNOWN_CLIENT = "unknown";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** The bucket key of the request's client (see above). */
export function clientIpKey(headers: Headers): string {
  const raw = headers.get("cf-connecting-ip")?.trim() ?? "";
  if (raw.length === 0 || raw.length > 64) return UNKNOWN_CLIENT;
  if (IPV4.test(raw)) return raw;
  const hextets = parseIpv6(raw);
  if (!hextets) return UNKNOWN_CLIENT;
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 and a `%zone` allowed), or null. */
function parseIpv6(value: string): number[] | null {
  let text = value.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (lastColon >= 0 && last.includes(".")) {
    // a dotted IPv4 as the last 32 bits (`::ffff:203.0.113.7`, `64:ff9b::198.51.100.1`)
    if (!IPV4.test(last)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = last.split(".").map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const parts = text.split("::");
  if (parts.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(parts[0] ?? "");
  const rest = parts.length === 2 ? groups(parts[1] ?? "") : [];
  if (![...head, ...rest].every((h) => HEXTET.test(h))) return null;
  const explicit = head.length + rest.length + tail.length;
  // without `::` all eight groups are written; `::` stands for at least one group of zeros
  if (parts.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const hex = (list: string[]) => list.map((h) => Number.parseInt(h, 16));
  const zeros = parts.length === 2 ? new Array<number>(8 - explicit).fill(0) : [];
  return [...hex(head), ...zeros, ...hex(rest), ...tail];
}
