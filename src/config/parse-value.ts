import { claimsDigestForm, normalizeDigestEntry } from '../lib/credential-digest.js';
import type { ParsedValue, VariableKind } from './variables.js';

// One parser per variable kind (OPERATIONS.md §3). A problem text never quotes the raw value:
// the same wording then serves secrets and non-secrets, and nothing secret can leak into the
// `config error` lines on stderr.

export type ParseResult = { value: ParsedValue } | { problem: string };

const INTEGER = /^-?[0-9]+$/;
const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);
// RFC 9110 §5.6.2 token: the only legal characters of a header field name.
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const ORIGIN = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[^\s/?#@:[\]]+)(?::([0-9]{1,5}))?$/i;

const ok = (value: ParsedValue): ParseResult => ({ value });
const fail = (problem: string): ParseResult => ({ problem });

/** Comma list, entries trimmed, empty entries dropped (contract README §Auth, API_KEYS). */
export function splitList(raw: string): string[] {
  return raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

function tryUrl(raw: string): URL | undefined {
  if (/\s/.test(raw) || !URL.canParse(raw)) return undefined;
  return new URL(raw);
}

function isHttpUrl(url: URL | undefined): url is URL {
  return url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:');
}

function parseInteger(raw: string, min: number, max: number): ParseResult {
  if (!INTEGER.test(raw)) return fail('not an integer');
  const value = Number(raw) + 0;
  return value >= min && value <= max ? ok(value) : fail(`must be between ${min} and ${max}`);
}

function parseBoolean(raw: string): ParseResult {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return ok(true);
  if (FALSE_WORDS.has(word)) return ok(false);
  return fail('not a boolean (true, false, 1, 0, yes, no)');
}

function parseEnum(raw: string, values: readonly string[]): ParseResult {
  const match = values.find((value) => value === raw.toLowerCase());
  return match === undefined ? fail(`must be one of ${values.join(', ')}`) : ok(match);
}

/** Every entry must pass `check` (which may normalise it); `problem` names the first that fails. */
function checkEntries(entries: string[], check: (entry: string) => string | undefined, problem: string): ParseResult {
  const values: string[] = [];
  for (const [index, entry] of entries.entries()) {
    const value = check(entry);
    if (value === undefined) return fail(`entry ${index + 1} ${problem}`);
    values.push(value);
  }
  return ok(values);
}

function parseEntries(raw: string, check: (entry: string) => string | undefined, problem: string): ParseResult {
  return checkEntries(splitList(raw), check, problem);
}

/** CP_BASE_URL (OPERATIONS.md §2.2): absolute http(s), no query/fragment, trailing `/` dropped. */
function parseBaseUrl(raw: string): ParseResult {
  const url = tryUrl(raw);
  if (!isHttpUrl(url)) return fail('must be an absolute http(s) URL');
  if (/[?#]/.test(raw)) return fail('must not have a query or fragment');
  if (url.username !== '' || url.password !== '') return fail('must not contain credentials');
  return ok(url.href.replace(/\/+$/, ''));
}

/**
 * One CORS origin `scheme://host[:port]`, lower-cased; http(s) origins are serialised as
 * browsers send them in `Origin` (default port dropped), so the exact match in the CORS plugin
 * works.
 */
function normalizeOrigin(entry: string): string | undefined {
  const match = ORIGIN.exec(entry);
  if (match === null || Number(match[3] ?? 0) > 65535) return undefined;
  const origin = entry.toLowerCase();
  if (match[1]?.toLowerCase() !== 'http' && match[1]?.toLowerCase() !== 'https') return origin;
  return tryUrl(origin)?.origin;
}

function parseOrigins(raw: string): ParseResult {
  const entries = splitList(raw);
  if (entries.includes('*')) return entries.every((entry) => entry === '*') ? ok(['*']) : fail('* cannot be combined with origins');
  if (entries.length === 0) return fail('no origin listed');
  const parsed = checkEntries(entries, normalizeOrigin, 'is not an origin scheme://host[:port]');
  return 'value' in parsed && Array.isArray(parsed.value) ? ok([...new Set(parsed.value)]) : parsed;
}

/** WEBHOOK_URL_ALLOWLIST entry: a hostname, or `.suffix` for the apex and its subdomains (§12.1). */
function normalizeAllowedHost(entry: string): string | undefined {
  const lower = entry.toLowerCase();
  const host = lower.startsWith('.') ? lower.slice(1) : lower;
  return host.length <= 253 && HOSTNAME.test(host) ? lower : undefined;
}

function parseHostList(raw: string): ParseResult {
  // Set but empty would leave it unclear whether every host or none is allowed: refuse it.
  if (splitList(raw).length === 0) return fail('no host listed');
  return parseEntries(raw, normalizeAllowedHost, 'is not a hostname or .suffix');
}

function parseHttpsUri(entry: string): string | undefined {
  return tryUrl(entry)?.protocol === 'https:' ? entry : undefined;
}

function parseSecret(raw: string, minLength: number): ParseResult {
  return raw.length >= minLength ? ok(raw) : fail(`shorter than ${minLength} characters`);
}

const NOT_A_DIGEST = 'not a sha256:<64 hex> digest';

/** METRICS_TOKEN: a raw token of at least `minLength`, or its `sha256:<64 hex>` digest. */
function parseSecretOrDigest(raw: string, minLength: number): ParseResult {
  if (!claimsDigestForm(raw)) return parseSecret(raw, minLength);
  const digest = normalizeDigestEntry(raw);
  return digest === undefined ? fail(NOT_A_DIGEST) : ok(digest);
}

/** API_KEYS: each entry a raw key without whitespace or a `sha256:<64 hex>` digest of one. */
function parseApiKeys(raw: string): ParseResult {
  const keys: string[] = [];
  for (const [index, entry] of splitList(raw).entries()) {
    const digest = claimsDigestForm(entry) ? normalizeDigestEntry(entry) : entry;
    if (digest === undefined) return fail(`entry ${index + 1} is ${NOT_A_DIGEST}`);
    if (/\s/.test(digest)) return fail(`entry ${index + 1} contains whitespace`);
    keys.push(digest);
  }
  return ok(keys);
}

function parsePostgresUrl(raw: string): ParseResult {
  const valid = /^postgres(ql)?:\/\//i.test(raw) && URL.canParse(raw);
  return valid ? ok(raw) : fail('must be a postgres:// or postgresql:// URL');
}

function parseString(raw: string, maxLength: number | undefined): ParseResult {
  return maxLength === undefined || raw.length <= maxLength ? ok(raw) : fail(`longer than ${maxLength} characters`);
}

/** Parses one set (non-empty) raw value by its kind. */
export function parseValue(kind: VariableKind, raw: string): ParseResult {
  switch (kind.type) {
    case 'int': return parseInteger(raw, kind.min, kind.max);
    case 'bool': return parseBoolean(raw);
    case 'enum': return parseEnum(raw, kind.values);
    case 'string': return parseString(raw, kind.maxLength);
    case 'hex':
      return new RegExp(`^[0-9a-fA-F]{${kind.length}}$`).test(raw) ? ok(raw) : fail(`must be exactly ${kind.length} hex characters`);
    case 'hex-list': {
      const hex = new RegExp(`^[0-9a-fA-F]{${kind.length}}$`);
      return parseEntries(raw, (entry) => (hex.test(entry) ? entry : undefined), `is not exactly ${kind.length} hex characters`);
    }
    case 'secret': return parseSecret(raw, kind.minLength);
    case 'secret-list':
      return parseEntries(raw, (entry) => (entry.length >= kind.minLength ? entry : undefined), `is shorter than ${kind.minLength} characters`);
    case 'api-keys': return parseApiKeys(raw);
    case 'secret-or-digest': return parseSecretOrDigest(raw, kind.minLength);
    case 'base-url': return parseBaseUrl(raw);
    case 'http-url': return isHttpUrl(tryUrl(raw)) ? ok(raw) : fail('must be an absolute http(s) URL');
    case 'https-uri-list': return parseEntries(raw, parseHttpsUri, 'is not an absolute https URI');
    case 'origins': return parseOrigins(raw);
    case 'http-token': return HTTP_TOKEN.test(raw) ? ok(raw.toLowerCase()) : fail('not an HTTP header name (RFC 9110 token)');
    case 'host-list': return parseHostList(raw);
    case 'postgres-url': return parsePostgresUrl(raw);
  }
}
