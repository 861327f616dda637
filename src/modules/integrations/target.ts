/**
 * Which URLs a webhook may be delivered to. An endpoint is an address the platform fetches on its
 * own, so in production it must be `https` and must not name this network's insides (SSRF): no
 * loopback, private, link-local (cloud metadata at 169.254.169.254), unique-local, carrier-grade
 * NAT, multicast or reserved address, and no `localhost` name. The URL parser has already folded
 * the odd spellings (`http://2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`) into plain addresses;
 * ipaddr.js (the range tables express's proxy-addr relies on) classifies them. In development and
 * tests `http://localhost` / `127.0.0.1` / `[::1]` are also allowed, for the emulator's receiver.
 * The check runs when an endpoint is saved and again before every attempt.
 */
import ipaddr from "ipaddr.js";

export const MAX_URL_LENGTH = 2048;

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Why `url` may not receive webhooks, or null when it may. */
export function refuseTarget(url: string, environment: string): string | null {
  if (url.length > MAX_URL_LENGTH) return `The URL is longer than ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "Not an absolute URL";
  }
  if (parsed.username || parsed.password) return "The URL must not carry credentials";
  const host = parsed.hostname.toLowerCase();
  const production = environment === "production";
  if (!production && parsed.protocol === "http:" && LOOPBACK_NAMES.has(host)) return null;
  if (parsed.protocol !== "https:") {
    return production ? "The URL must use https" : "The URL must use https (or http://localhost in development)";
  }
  if (!production) return null;
  if (host === "localhost" || host.endsWith(".localhost")) return "Loopback addresses are refused";
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  if (ipaddr.isValid(literal)) {
    let address = ipaddr.parse(literal);
    // an IPv4 address written as IPv6 (::ffff:10.0.0.1) is that IPv4 address
    if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      address = (address as ipaddr.IPv6).toIPv4Address();
    }
    const range = address.range();
    if (range !== "unicast") return `Addresses in the ${range} range are refused`;
  }
  return null;
}
