import { Value } from 'typebox/value';
import { parseValue } from './parse-value.js';
import { ConfigSchema, isProduction, type Config } from './schema.js';
import { DEFAULT_PORT, VARIABLES, defaultOf, type DefaultContext, type ParsedValue } from './variables.js';

// Pure: no process.env, no file, no clock. Rules of OPERATIONS.md §3. Every problem is collected
// so an operator fixes them all in one go; each line is `<VAR>: <problem>` and never holds a
// value of a secret variable (no parser quotes a raw value, and no rule here does either).

export type ConfigResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

export interface LoadConfigOptions {
  /** For the REPLICA_ID default `<hostname>-<pid>`; `localhost` when omitted. */
  hostname?: string;
  /** For the REPLICA_ID default; 0 when omitted. */
  pid?: number;
}

type Env = Record<string, string | undefined>;
type Values = Record<string, ParsedValue>;

const API_KEY_MIN_LENGTH = 24;
const STRICT_VERIFIERS = 'the CP manifest would fail strict verifiers';

/** OPERATIONS.md §3: an empty string counts as unset. */
function isSet(env: Env, name: string): boolean {
  const raw = env[name];
  return raw !== undefined && raw !== '';
}

function isEmpty(value: ParsedValue): boolean {
  return value === undefined || (Array.isArray(value) && value.length === 0);
}

/** Parses every set variable; `failed` gets the names whose value was refused. */
function parseSetValues(env: Env, errors: string[], failed: Set<string>): Values {
  const values: Values = {};
  for (const variable of VARIABLES) {
    const raw = env[variable.name];
    if (raw === undefined || raw === '') continue;
    const parsed = parseValue(variable.kind, raw);
    if ('problem' in parsed) {
      errors.push(`${variable.name}: ${parsed.problem}`);
      failed.add(variable.name);
    } else {
      values[variable.name] = parsed.value;
    }
  }
  return values;
}

function applyDefaults(values: Values, ctx: DefaultContext): void {
  for (const variable of VARIABLES) {
    if (variable.name in values) continue;
    const value = defaultOf(variable, ctx);
    if (value !== undefined) values[variable.name] = value;
  }
}

/** The snapshot must be rebuilt at least four times per validity period (OPERATIONS.md §2.2). */
function crossFieldErrors(values: Values, failed: Set<string>): string[] {
  if (failed.has('REVOCATION_LIST_TTL_SECS') || failed.has('REVOCATION_CACHE_TTL_MS')) return [];
  const limit = Number(values.REVOCATION_LIST_TTL_SECS) * 250;
  if (Number(values.REVOCATION_CACHE_TTL_MS) <= limit) return [];
  return [`REVOCATION_CACHE_TTL_MS: must be at most REVOCATION_LIST_TTL_SECS × 250 (${limit})`];
}

/** OPERATIONS.md §3 "Errors in production only". */
function productionErrors(values: Values, failed: Set<string>): string[] {
  const errors: string[] = [];
  for (const variable of VARIABLES) {
    if (variable.requiredInProduction && !failed.has(variable.name) && isEmpty(values[variable.name])) {
      errors.push(`${variable.name}: required in production`);
    }
  }
  const keys = Array.isArray(values.API_KEYS) ? values.API_KEYS : [];
  for (const [index, key] of keys.entries()) {
    if (key.length < API_KEY_MIN_LENGTH) errors.push(`API_KEYS: key ${index + 1} is shorter than ${API_KEY_MIN_LENGTH} characters`);
  }
  if (values.WEBHOOK_ALLOW_PRIVATE_TARGETS === true) errors.push('WEBHOOK_ALLOW_PRIVATE_TARGETS: must not be true in production');
  return errors;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\./.test(hostname)
    || hostname === '[::1]' || hostname === '0.0.0.0' || hostname === '[::]';
}

/** Why the manifest's public origin is unfit for production, one line per reason. */
function baseUrlWarnings(env: Env, baseUrl: string): string[] {
  if (!isSet(env, 'CP_BASE_URL')) return [`CP_BASE_URL: unset, using ${baseUrl}; ${STRICT_VERIFIERS}`];
  if (!URL.canParse(baseUrl)) return [];
  const url = new URL(baseUrl);
  const warnings: string[] = [];
  if (url.protocol !== 'https:') warnings.push(`CP_BASE_URL: not https; ${STRICT_VERIFIERS}`);
  if (isLoopbackHost(url.hostname)) warnings.push(`CP_BASE_URL: a localhost host; ${STRICT_VERIFIERS}`);
  return warnings;
}

/** OPERATIONS.md §3 warnings and contract Ruling 4 (trust anchors); refused values are skipped. */
function productionWarnings(env: Env, values: Values, failed: Set<string>): string[] {
  const warnings: string[] = [];
  if (!isSet(env, 'CORS_ORIGIN')) warnings.push('CORS_ORIGIN: unset, using *');
  if (!failed.has('CP_BASE_URL')) warnings.push(...baseUrlWarnings(env, String(values.CP_BASE_URL)));
  if (values.RATE_LIMIT_ENABLED === false) warnings.push('RATE_LIMIT_ENABLED: false, every rate limit is off');
  if (!failed.has('CP_ACCEPTED_TRUST_ANCHORS') && isEmpty(values.CP_ACCEPTED_TRUST_ANCHORS)) {
    warnings.push('CP_ACCEPTED_TRUST_ANCHORS: empty, the CP manifest lists no accepted trust anchor');
  }
  return warnings;
}

/** Development warnings known from the environment alone; generated secrets are reported at boot. */
function developmentWarnings(values: Values, failed: Set<string>): string[] {
  const warnings: string[] = [];
  if (!failed.has('API_KEYS') && isEmpty(values.API_KEYS)) warnings.push('API_KEYS: empty, API-key routes are open (development only)');
  if (values.WEBHOOK_ALLOW_PRIVATE_TARGETS === true) {
    warnings.push('WEBHOOK_ALLOW_PRIVATE_TARGETS: true, webhook address-range checks are off (local testing only)');
  }
  return warnings;
}

/** Parses and validates a whole environment (OPERATIONS.md §3). Unknown variables are ignored. */
export function loadConfig(env: Env, opts: LoadConfigOptions = {}): ConfigResult {
  const errors: string[] = [];
  const failed = new Set<string>();
  const values = parseSetValues(env, errors, failed);
  const production = isProduction({ NODE_ENV: env.NODE_ENV });
  const port = typeof values.PORT === 'number' ? values.PORT : DEFAULT_PORT;
  applyDefaults(values, { production, port, hostname: opts.hostname ?? 'localhost', pid: opts.pid ?? 0 });
  errors.push(...crossFieldErrors(values, failed));
  if (production) errors.push(...productionErrors(values, failed));
  const warnings = production ? productionWarnings(env, values, failed) : developmentWarnings(values, failed);
  if (errors.length > 0) return { ok: false, errors, warnings };
  if (!Value.Check(ConfigSchema, values)) throw new Error('config: the variable table and ConfigSchema disagree');
  return { ok: true, config: values, warnings };
}
