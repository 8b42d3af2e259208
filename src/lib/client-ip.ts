import { isIP } from 'node:net';

export interface ClientIpSettings {
  /** Lower-cased trusted header name (CLIENT_IP_HEADER), or undefined. */
  header: string | undefined;
  /** TRUSTED_PROXY_HOPS. */
  hops: number;
}

const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/** Reused by the IPv6 helpers below: they run per request and must not allocate arrays. */
const groups = new Uint16Array(8);

/**
 * Reads an IPv6 address that `isIP` already accepted (zone id removed) into `groups`: hex
 * groups, at most one `::`, an optional dotted IPv4 tail.
 */
function readIpv6(text: string): void {
  let end = text.length;
  let count = 0;
  if (text.includes('.')) end = readIpv4Tail(text);
  let gap = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 58 /* : */) {
      value = value * 16 + (c <= 57 ? c - 48 : (c | 32) - 87); // isIP vetted the hex digits
      digits++;
      continue;
    }
    if (digits > 0) groups[count++] = value;
    value = 0;
    digits = 0;
    if (text.charCodeAt(i + 1) === 58) {
      gap = count;
      i++;
    }
  }
  if (digits > 0) groups[count++] = value;
  if (gap < 0) return;
  // Move the groups written after `::` to the end (just before an IPv4 tail); zero the gap.
  const tailStart = (end < text.length ? 6 : 8) - (count - gap);
  groups.copyWithin(tailStart, gap, count);
  groups.fill(0, gap, tailStart);
}

/** Puts the dotted tail `a.b.c.d` into groups[6..7]; returns where the hex part ends. */
function readIpv4Tail(text: string): number {
  const start = text.lastIndexOf(':') + 1;
  const [a = 0, b = 0, c = 0, d = 0] = text.slice(start).split('.').map(Number);
  groups[6] = a * 256 + b;
  groups[7] = c * 256 + d;
  return start;
}

/** RFC 5952 text of `groups`: lower-case, no leading zeros, the longest zero run (≥ 2) as `::`. */
function formatIpv6(): string {
  let runStart = -1;
  let runLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLength) {
      runStart = i;
      runLength = j - i;
    }
    i = Math.max(j, i + 1);
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === runStart) {
      out += '::';
      i += runLength - 1;
    } else {
      out += (out === '' || out.endsWith(':') ? '' : ':') + groups[i]!.toString(16);
    }
  }
  return out;
}

/** `::ffff:a.b.c.d` (any spelling) → `a.b.c.d`; other IPv6 → its RFC 5952 form. */
function normalizeIpv6(text: string): string {
  readIpv6(text);
  const mapped = groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff;
  if (!mapped) return formatIpv6();
  const hi = groups[6]!;
  const lo = groups[7]!;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
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
  if (!ip.includes(':')) return ip;
  readIpv6(ip);
  return `${groups[0]!.toString(16)}:${groups[1]!.toString(16)}:${groups[2]!.toString(16)}:${groups[3]!.toString(16)}::/64`;
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
