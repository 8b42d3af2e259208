import { isIP } from 'node:net';

export interface ClientIpSettings {
  /** Lower-cased trusted header name (CLIENT_IP_HEADER), or undefined. */
  header: string | undefined;
  /** TRUSTED_PROXY_HOPS. */
  hops: number;
}

/** Strips a port (`a.b.c.d:port`, `[v6]:port`), brackets and an IPv6 zone id; undefined if not an IP. */
export function parseIp(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const version = isIP(s);
  if (version === 0) return undefined;
  if (version === 6) {
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
    if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
    return s.toLowerCase();
  }
  return s;
}

function headerValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Client IP per OPERATIONS.md §8: the trusted header's first element when set and parseable;
 * else with N trusted hops the entry N from the right of (X-Forwarded-For chain + socket);
 * else the socket address. X-Real-IP and Forwarded are never read.
 */
export function resolveClientIp(
  settings: ClientIpSettings,
  headers: Record<string, string | string[] | undefined>,
  socketAddress: string | undefined,
): string {
  const socketIp = parseIp(socketAddress) ?? 'unknown-socket';
  if (settings.header !== undefined) {
    const first = headerValues(headers[settings.header])[0]?.split(',')[0];
    const ip = parseIp(first);
    if (ip !== undefined) return ip;
  }
  if (settings.hops > 0) {
    const chain = headerValues(headers['x-forwarded-for'])
      .join(',')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    chain.push(socketAddress ?? '');
    const index = chain.length - 1 - settings.hops;
    if (index < 0) return socketIp;
    return parseIp(chain[index]) ?? socketIp;
  }
  return socketIp;
}
