/**
 * Address classification for the webhook SSRF guard (OPERATIONS.md §12.1). Pure: no DNS, no
 * sockets. An address is judged after parsing it into numbers, never by matching its text, so
 * every spelling of one address (e.g. `::ffff:127.0.0.1` and `::ffff:7f00:1`) gets one verdict.
 */

type V4Range = readonly [base: string, prefix: number, reason: string];

/** Blocked IPv4 ranges (§12.1 table). */
const BLOCKED_V4: readonly V4Range[] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

type V6Range = readonly [base: string, prefix: number, reason: string];

/** Blocked parts of 2000::/3 (§12.1); everything outside 2000::/3 is blocked anyway. */
const BLOCKED_V6_GLOBAL: readonly V6Range[] = [
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'SRv6 SIDs'],
];

/** `a.b.c.d` with four decimal parts 0–255 (no leading zeros beyond `0`) → 32-bit value. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function hexGroups(parts: string[]): number[] | undefined {
  const groups: number[] = [];
  for (const part of parts) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

/**
 * An IPv6 address without brackets or zone (`::`, a dotted IPv4 tail, hex groups of 1–4
 * digits) → its eight 16-bit groups; undefined when it is not one.
 */
export function parseIPv6(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return undefined;
  let body = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    // A dotted IPv4 tail stands for the last two groups (`::ffff:127.0.0.1`).
    const lastColon = text.lastIndexOf(':');
    const v4 = lastColon < 0 ? undefined : parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    body = text.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parts = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = hexGroups(parts(halves[0]!));
  const rest = halves.length === 2 ? hexGroups(parts(halves[1]!)) : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1) return explicit === 8 ? [...head, ...tail] : undefined;
  // `::` stands for one or more zero groups.
  if (explicit > 7) return undefined;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

function v4InRange(value: number, base: string, prefix: number): boolean {
  const start = parseIPv4(base)!;
  const size = 2 ** (32 - prefix);
  return value >= start && value < start + size;
}

function v6InRange(groups: readonly number[], base: string, prefix: number): boolean {
  const start = parseIPv6(base)!;
  for (let bit = 0; bit < prefix; bit += 16) {
    const width = Math.min(16, prefix - bit);
    const mask = (0xffff << (16 - width)) & 0xffff;
    const index = bit / 16;
    if ((groups[index]! & mask) !== (start[index]! & mask)) return false;
  }
  return true;
}

/** Why an IPv4 address (32-bit value) is blocked, or undefined when it may be called. */
export function blockedV4Reason(value: number): string | undefined {
  for (const [base, prefix, reason] of BLOCKED_V4) if (v4InRange(value, base, prefix)) return reason;
  return undefined;
}

/** Why IPv6 groups are blocked, or undefined when they may be called. */
export function blockedV6Reason(groups: readonly number[]): string | undefined {
  // IPv4-mapped ::ffff:0:0/96 and NAT64 64:ff9b::/96 are judged by the IPv4 they carry.
  if (v6InRange(groups, '::ffff:0:0', 96) || v6InRange(groups, '64:ff9b::', 96)) {
    const reason = blockedV4Reason(groups[6]! * 65536 + groups[7]!);
    return reason === undefined ? undefined : `embedded IPv4 ${reason}`;
  }
  if (!v6InRange(groups, '2000::', 3)) return 'not global unicast';
  for (const [base, prefix, reason] of BLOCKED_V6_GLOBAL) if (v6InRange(groups, base, prefix)) return reason;
  return undefined;
}

/**
 * Verdict for one address literal (IPv4 dotted or IPv6 without brackets): undefined = allowed,
 * otherwise the reason. Anything unparseable is blocked.
 */
export function blockedAddressReason(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return blockedV4Reason(v4);
  const v6 = parseIPv6(address);
  if (v6 !== undefined) return blockedV6Reason(v6);
  return 'unparseable address';
}

/** 4 or 6 for an address literal, undefined for a name. */
export function addressFamily(host: string): 4 | 6 | undefined {
  if (parseIPv4(host) !== undefined) return 4;
  if (parseIPv6(host) !== undefined) return 6;
  return undefined;
}
