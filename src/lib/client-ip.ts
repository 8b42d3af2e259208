import { isIP } from 'node:net';
import { parseIpv6 } from './ip-address.js';

export interface ClientIpSettings {
  /** Lower-cased trusted header name (CLIENT_IP_HEADER), or undefined. */
  header: string | undefined;
  /** TRUSTED_PROXY_HOPS. */
  hops: number;
}

const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/** `::ffff:a.b.c.d` (any spelling) → `a.b.c.d`; other IPv6 → its RFC 5952 form. */
function normalizeIpv6(text: string): string | undefined {
  const address = parseIpv6(text);
  if (address === undefined) return undefined;
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toRFC5952String();
}

/**
 * One address as a client IP (OPERATIONS.md §8): `a.b.c.d:port` and `[v6]:port` lose the port,
 * IPv6 zone ids are dropped, IPv4-mapped IPv6 folds to IPv4, IPv6 is written in RFC 5952 form so
 * one client has one spelling. Anything that is not an address → undefined.
 */
export function parseIp(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let text = raw.trim();
  // Fast paths: the socket address of an IPv4 or a dual-stack listener, on every request.
  if (isIP(text) === 4) return text;
  if (text.startsWith('::ffff:') && isIP(text.slice(7)) === 4) return text.slice(7);
  const inBrackets = BRACKETED.exec(text);
  const bracketed = inBrackets !== null;
  if (inBrackets) text = inBrackets[1]!;
  else text = IPV4_WITH_PORT.exec(text)?.[1] ?? text;
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) text = text.slice(0, zone);
  const version = isIP(text);
  if (version === 6) return normalizeIpv6(text);
  return version === 4 && !bracketed ? text : undefined;
}

/**
 * The limiter's key for a client IP (OPERATIONS.md §8): IPv4 as is, IPv6 by its /64, since one
 * host usually owns a whole /64 and could otherwise rotate through 2^64 fresh buckets.
 */
export function ipRateLimitKey(ip: string): string {
  const parts = ip.includes(':') ? parseIpv6(ip)?.parts : undefined;
  if (parts === undefined) return ip;
  return `${parts[0]!.toString(16)}:${parts[1]!.toString(16)}:${parts[2]!.toString(16)}:${parts[3]!.toString(16)}::/64`;
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Client IP per OPERATIONS.md §8: the trusted header's first element when set and parseable;
 * else with N trusted hops the entry N from the right of (X-Forwarded-For chain + socket);
 * else the socket address. X-Real-IP and Forwarded are never read.
 *
 * Returns '' only when the socket has no address (the peer already hung up): there is no shared
 * `unknown` key (§8), and the rate limiter refuses such a request instead.
 */
export function resolveClientIp(
  settings: ClientIpSettings,
  headers: Record<string, string | string[] | undefined>,
  socketAddress: string | undefined,
): string {
  if (settings.header !== undefined) {
    const first = headerValues(headers[settings.header])[0]?.split(',')[0];
    const ip = parseIp(first);
    if (ip !== undefined) return ip;
  }
  const socketIp = parseIp(socketAddress) ?? '';
  if (settings.hops <= 0) return socketIp;
  const chain = headerValues(headers['x-forwarded-for'])
    .join(',')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  // The socket address is the last hop: chain[len − 1] is the socket itself.
  const index = chain.length - settings.hops;
  if (index < 0) return socketIp;
  return parseIp(chain[index]) ?? socketIp;
}
