import { embeddedIpv4, parseCidr, parseIpv4, parseIpv6, type IPv4, type IPv6 } from '../../lib/ip-address.js';

/**
 * Address classification for the webhook SSRF guard (OPERATIONS.md §12.1). Pure: no DNS, no
 * sockets. An address is judged after ipaddr.js parsed it into numbers, never by matching its
 * text, so every spelling of one address (e.g. `::ffff:127.0.0.1` and `::ffff:7f00:1`) gets one
 * verdict.
 */

type Range<A> = readonly [range: [A, number], reason: string];

/** Blocked IPv4 ranges (§12.1 table). */
const BLOCKED_V4: readonly Range<IPv4>[] = [
  [parseCidr.v4('0.0.0.0/8'), 'this network'],
  [parseCidr.v4('10.0.0.0/8'), 'private'],
  [parseCidr.v4('100.64.0.0/10'), 'carrier-grade NAT'],
  [parseCidr.v4('127.0.0.0/8'), 'loopback'],
  [parseCidr.v4('169.254.0.0/16'), 'link-local'],
  [parseCidr.v4('172.16.0.0/12'), 'private'],
  [parseCidr.v4('192.0.0.0/24'), 'IETF protocol assignments'],
  [parseCidr.v4('192.0.2.0/24'), 'documentation'],
  [parseCidr.v4('192.88.99.0/24'), '6to4 relay anycast'],
  [parseCidr.v4('192.168.0.0/16'), 'private'],
  [parseCidr.v4('198.18.0.0/15'), 'benchmarking'],
  [parseCidr.v4('198.51.100.0/24'), 'documentation'],
  [parseCidr.v4('203.0.113.0/24'), 'documentation'],
  [parseCidr.v4('224.0.0.0/4'), 'multicast'],
  [parseCidr.v4('240.0.0.0/4'), 'reserved'],
];

/** Blocked parts of 2000::/3 (§12.1); everything outside 2000::/3 is blocked anyway. */
const GLOBAL_UNICAST = parseCidr.v6('2000::/3');
const BLOCKED_V6_GLOBAL: readonly Range<IPv6>[] = [
  [parseCidr.v6('2001::/23'), 'IETF protocol assignments'],
  [parseCidr.v6('2001:db8::/32'), 'documentation'],
  [parseCidr.v6('2002::/16'), '6to4'],
  [parseCidr.v6('3fff::/20'), 'documentation'],
  [parseCidr.v6('5f00::/16'), 'SRv6 SIDs'],
];

/** IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 are judged by the IPv4 they carry. */
const CARRIES_V4 = [parseCidr.v6('::ffff:0:0/96'), parseCidr.v6('64:ff9b::/96')];

/** `a.b.c.d` with four decimal parts 0–255 (no leading zeros beyond `0`) → 32-bit value. */
export function parseIPv4(text: string): number | undefined {
  const octets = parseIpv4(text)?.octets;
  return octets === undefined ? undefined : ((octets[0]! * 256 + octets[1]!) * 256 + octets[2]!) * 256 + octets[3]!;
}

/**
 * An IPv6 address without brackets or zone (`::`, a dotted IPv4 tail, hex groups of 1–4
 * digits) → its eight 16-bit groups; undefined when it is not one.
 */
export function parseIPv6(text: string): number[] | undefined {
  return text.includes('%') ? undefined : parseIpv6(text)?.parts;
}

function reasonIn<A extends IPv4 | IPv6>(address: A, ranges: readonly Range<A>[]): string | undefined {
  for (const [range, reason] of ranges) if (address.match(range)) return reason;
  return undefined;
}

function blockedV6Reason(address: IPv6): string | undefined {
  if (CARRIES_V4.some((range) => address.match(range))) {
    const reason = reasonIn(embeddedIpv4(address), BLOCKED_V4);
    return reason === undefined ? undefined : `embedded IPv4 ${reason}`;
  }
  if (!address.match(GLOBAL_UNICAST)) return 'not global unicast';
  return reasonIn(address, BLOCKED_V6_GLOBAL);
}

/**
 * Verdict for one address literal (IPv4 dotted or IPv6 without brackets): undefined = allowed,
 * otherwise the reason. Anything unparseable is blocked.
 */
export function blockedAddressReason(address: string): string | undefined {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return reasonIn(v4, BLOCKED_V4);
  const v6 = address.includes('%') ? undefined : parseIpv6(address);
  if (v6 !== undefined) return blockedV6Reason(v6);
  return 'unparseable address';
}

/** 4 or 6 for an address literal, undefined for a name. */
export function addressFamily(host: string): 4 | 6 | undefined {
  if (parseIpv4(host) !== undefined) return 4;
  if (parseIPv6(host) !== undefined) return 6;
  return undefined;
}
