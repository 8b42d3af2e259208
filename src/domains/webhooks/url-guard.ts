import { addressFamily, blockedAddressReason } from './ip-ranges.js';

/**
 * The webhook SSRF guard (OPERATIONS.md §12.1), run at create/patch and before every attempt.
 * Pure apart from the injected resolver, so every rule is testable without a network.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to (`dns.lookup` all, bounded); rejects with a `code` on failure. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardPolicy {
  /** Production allows `https` only (Ruling 8). */
  production: boolean;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: skips the address-range checks only (Ruling 8). */
  allowPrivateTargets: boolean;
  /** WEBHOOK_URL_ALLOWLIST entries (lower-case; `.suffix` = apex and subdomains); empty = any host. */
  allowlist: readonly string[];
  resolve: Resolver;
}

export type GuardVerdict =
  /** `address` is where the attempt must connect: the address that was checked. */
  | { ok: true; url: URL; address: ResolvedAddress }
  /** A URL or address that may never be called (create/patch 400, attempt terminal). */
  | { ok: false; kind: 'forbidden'; reason: string }
  /** Resolution failed or timed out: a normal, retryable failed attempt. */
  | { ok: false; kind: 'dns'; reason: string };

const MAX_URL_CHARS = 2048;

const forbidden = (reason: string): GuardVerdict => ({ ok: false, kind: 'forbidden', reason });

/** Host equals an entry, or is the apex or a subdomain of a `.suffix` entry. */
export function isAllowedHost(hostname: string, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  const host = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  return allowlist.some((entry) => (entry.startsWith('.') ? host === entry.slice(1) || host.endsWith(entry) : host === entry));
}

/** Steps 1–4: shape, scheme, userinfo, allowlist. Returns the parsed URL or a verdict. */
function checkShape(text: string, policy: GuardPolicy): URL | GuardVerdict {
  if (text.length > MAX_URL_CHARS) return forbidden(`longer than ${MAX_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return forbidden('not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !policy.production)) return forbidden(`scheme ${url.protocol} not allowed`);
  if (url.username !== '' || url.password !== '') return forbidden('userinfo not allowed');
  if (!isAllowedHost(url.hostname, policy.allowlist)) return forbidden('host not in WEBHOOK_URL_ALLOWLIST');
  return url;
}

function dnsCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'ERROR';
}

/**
 * Step 5: an IP literal is judged directly; a name is resolved and **every** address must pass.
 * The first address is the one the attempt connects to, so no second lookup can slip in.
 */
export async function checkWebhookUrl(text: string, policy: GuardPolicy): Promise<GuardVerdict> {
  const shaped = checkShape(text, policy);
  if (!(shaped instanceof URL)) return shaped;
  // WHATWG keeps IPv6 literals bracketed and has already canonicalized IPv4 spellings.
  const host = shaped.hostname.startsWith('[') ? shaped.hostname.slice(1, -1) : shaped.hostname;
  const family = addressFamily(host);
  let addresses: ResolvedAddress[];
  if (family !== undefined) {
    addresses = [{ address: host, family }];
  } else {
    try {
      addresses = await policy.resolve(host);
    } catch (err) {
      return { ok: false, kind: 'dns', reason: `dns: ${dnsCode(err)}` };
    }
  }
  if (addresses.length === 0) return forbidden('no address');
  if (!policy.allowPrivateTargets) {
    for (const { address } of addresses) {
      const reason = blockedAddressReason(address);
      if (reason !== undefined) return forbidden(`${address} is ${reason}`);
    }
  }
  return { ok: true, url: shaped, address: addresses[0]! };
}
