import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

export type { IPv4, IPv6 } from 'ipaddr.js';

/**
 * `::a.b.c.d`, the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1). ipaddr.js reads it as
 * the IPv4-mapped `::ffff:a.b.c.d`, which would give `::8.8.8.8` the verdict (and the rate-limit
 * key) of 8.8.8.8; it is the IPv6 address `::808:808`.
 */
const IPV4_COMPATIBLE = /^::(\d{1,3}(?:\.\d{1,3}){3})$/;

/** An IPv6 literal (no brackets; a zone id is ignored) parsed by ipaddr.js, or undefined. */
export function parseIpv6(text: string): ipaddr.IPv6 | undefined {
  if (isIP(text) !== 6) return undefined;
  const compatible = IPV4_COMPATIBLE.exec(text);
  if (compatible === null) return ipaddr.IPv6.parse(text);
  const [a, b, c, d] = ipaddr.IPv4.parse(compatible[1]!).octets as [number, number, number, number];
  return new ipaddr.IPv6([0, 0, 0, 0, 0, 0, a * 256 + b, c * 256 + d]);
}

/** A dotted-quad IPv4 literal (no leading zeros, no other notation) parsed by ipaddr.js, or undefined. */
export function parseIpv4(text: string): ipaddr.IPv4 | undefined {
  return isIP(text) === 4 ? ipaddr.IPv4.parse(text) : undefined;
}

/** ipaddr.js CIDR parsing, for range tables built once at load. */
export const parseCidr = {
  v4: (cidr: string): [ipaddr.IPv4, number] => ipaddr.IPv4.parseCIDR(cidr),
  v6: (cidr: string): [ipaddr.IPv6, number] => ipaddr.IPv6.parseCIDR(cidr),
};

/** The IPv4 address in an IPv6 address's last 32 bits (IPv4-mapped, NAT64). */
export function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const hi = address.parts[6]!;
  const lo = address.parts[7]!;
  return new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
}
