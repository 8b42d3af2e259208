import { describe, expect, it } from 'vitest';
import { loadConfig, type Config, type ConfigResult } from '../../../src/config/index.js';

const OPTS = { hostname: 'box', pid: 42 };
const SEED = 'ab'.repeat(32);
const SECRET = 's'.repeat(32);
const PROD_KEY = 'k'.repeat(24);
const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://cp:pw@db:5432/cp',
  CP_AID_SEED_HEX: SEED,
  ENROLLMENT_SECRET: SECRET,
  SECRETS_KEY: 'cd'.repeat(32),
  API_KEYS: PROD_KEY,
  CP_BASE_URL: 'https://cp.example.com',
  CORS_ORIGIN: 'https://console.example.com',
  CP_ACCEPTED_TRUST_ANCHORS: 'https://anchors.example.com/a',
};

function configOf(result: ConfigResult): Config {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.errors.join('; ')}`);
  return result.config;
}

function errorsOf(result: ConfigResult): string[] {
  if (result.ok) throw new Error('expected config errors');
  return result.errors;
}

describe('loadConfig: defaults', () => {
  it('accepts an empty development environment', () => {
    const result = loadConfig({}, OPTS);
    const config = configOf(result);
    expect(config).toMatchObject({
      PORT: 4000, HOST: '127.0.0.1', DRAIN_DELAY_MS: 0, CP_BASE_URL: 'http://localhost:4000',
      REPLICA_ID: 'box-42', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: true, CORS_ORIGIN: ['*'],
    });
    expect(config.CP_AID_SEED_HEX).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    const config = configOf(loadConfig({ PORT: '', API_KEYS: '', CORS_ORIGIN: '', NODE_ENV: '' }, OPTS));
    expect(config).toMatchObject({ PORT: 4000, API_KEYS: [], CORS_ORIGIN: ['*'] });
    expect(config.NODE_ENV).toBeUndefined();
  });

  it('derives CP_BASE_URL from PORT', () => {
    expect(configOf(loadConfig({ PORT: '8080' }, OPTS)).CP_BASE_URL).toBe('http://localhost:8080');
  });

  it('uses production defaults for HOST and DRAIN_DELAY_MS in production', () => {
    expect(configOf(loadConfig(PRODUCTION_ENV, OPTS))).toMatchObject({ HOST: '0.0.0.0', DRAIN_DELAY_MS: 5000 });
  });

  it('ignores HOSTNAME and unknown variables', () => {
    const config = configOf(loadConfig({ HOSTNAME: 'container-1', SOMETHING_ELSE: 'x' }, OPTS));
    expect(config.HOST).toBe('127.0.0.1');
    expect(config).not.toHaveProperty('HOSTNAME');
    expect(config).not.toHaveProperty('SOMETHING_ELSE');
  });
});

describe('loadConfig: values', () => {
  it.each([
    ['RATE_LIMIT_ENABLED', 'YES', true], ['RATE_LIMIT_ENABLED', '0', false], ['RATE_LIMIT_ENABLED', 'False', false],
    ['TRUSTED_PROXY_HOPS', '10', 10], ['DRAIN_DELAY_MS', '-0', 0], ['LOG_LEVEL', 'DEBUG', 'debug'],
    ['CP_BASE_URL', 'https://CP.Example.com:443/base//', 'https://cp.example.com/base'],
    ['CP_BASE_URL', 'http://localhost:4000/', 'http://localhost:4000'],
    ['CORS_ORIGIN', ' https://A.example.com:443 , http://b.example.com:8080,', ['https://a.example.com', 'http://b.example.com:8080']],
    ['CORS_ORIGIN', '*', ['*']],
    ['CLIENT_IP_HEADER', 'CF-Connecting-IP', 'cf-connecting-ip'],
    ['WEBHOOK_URL_ALLOWLIST', 'Hooks.Example.com, .partner.example', ['hooks.example.com', '.partner.example']],
    ['API_KEYS', ' key-one ,, key-two ', ['key-one', 'key-two']],
    ['API_KEYS', `key-one,SHA256:${'AB'.repeat(32)}`, ['key-one', `sha256:${'ab'.repeat(32)}`]],
    ['METRICS_TOKEN', `sha256:${'0f'.repeat(32)}`, `sha256:${'0f'.repeat(32)}`],
    ['ENROLLMENT_SECRET_PREVIOUS', `${SECRET}, ${'t'.repeat(40)}`, [SECRET, 't'.repeat(40)]],
    ['SECRETS_KEY_PREVIOUS', `${SEED}, ${'CD'.repeat(32)}`, [SEED, 'CD'.repeat(32)]],
    ['WEBHOOK_SECRET_OVERLAP_S', '0', 0],
    ['DATABASE_URL', 'postgresql://u:p@h/db', 'postgresql://u:p@h/db'],
    ['CP_ACCEPTED_TRUST_ANCHORS', 'https://a.example/x, https://b.example', ['https://a.example/x', 'https://b.example']],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318', 'http://collector:4318'],
  ])('%s=%j parses to %j', (name, raw, expected) => {
    const config = configOf(loadConfig({ [name]: raw }, OPTS));
    expect(config[name as keyof Config]).toEqual(expected);
  });
});

describe('loadConfig: errors', () => {
  it.each([
    ['PORT', 'abc', 'PORT: not an integer'],
    ['PORT', '4000.5', 'PORT: not an integer'],
    ['PORT', ' 4000', 'PORT: not an integer'],
    ['PORT', '1e3', 'PORT: not an integer'],
    ['PORT', '0', 'PORT: must be between 1 and 65535'],
    ['PORT', '65536', 'PORT: must be between 1 and 65535'],
    ['TRUSTED_PROXY_HOPS', '-1', 'TRUSTED_PROXY_HOPS: must be between 0 and 10'],
    ['SSE_HEARTBEAT_MS', '99999999999999999999', 'SSE_HEARTBEAT_MS: must be between 1000 and 2147483647'],
    ['RATE_LIMIT_ENABLED', 'on', 'RATE_LIMIT_ENABLED: not a boolean'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent'],
    ['REPLICA_ID', 'r'.repeat(129), 'REPLICA_ID: longer than 128 characters'],
    ['CP_AID_SEED_HEX', 'ab'.repeat(31), 'CP_AID_SEED_HEX: must be exactly 64 hex characters'],
    ['CP_AID_SEED_HEX', `${'ab'.repeat(31)}zz`, 'CP_AID_SEED_HEX: must be exactly 64 hex characters'],
    ['ENROLLMENT_SECRET', 's'.repeat(31), 'ENROLLMENT_SECRET: shorter than 32 characters'],
    ['ENROLLMENT_SECRET_PREVIOUS', `${SECRET},short`, 'ENROLLMENT_SECRET_PREVIOUS: entry 2 is shorter than 32 characters'],
    ['SECRETS_KEY', 'ab'.repeat(31), 'SECRETS_KEY: must be exactly 64 hex characters'],
    ['SECRETS_KEY_PREVIOUS', `${SEED},${'ab'.repeat(31)}zz`, 'SECRETS_KEY_PREVIOUS: entry 2 is not exactly 64 hex characters'],
    ['WEBHOOK_SECRET_OVERLAP_S', '604801', 'WEBHOOK_SECRET_OVERLAP_S: must be between 0 and 604800'],
    ['METRICS_TOKEN', 'm'.repeat(15), 'METRICS_TOKEN: shorter than 16 characters'],
    ['API_KEYS', 'good-key,bad key', 'API_KEYS: entry 2 contains whitespace'],
    ['API_KEYS', `good-key,sha256:${'a'.repeat(63)}`, 'API_KEYS: entry 2 is not a sha256:<64 hex> digest'],
    ['API_KEYS', `sha256:${'a'.repeat(63)}g,good-key`, 'API_KEYS: entry 1 is not a sha256:<64 hex> digest'],
    ['API_KEYS', 'a,b,sha256:', 'API_KEYS: entry 3 is not a sha256:<64 hex> digest'],
    ['METRICS_TOKEN', `sha256:${'a'.repeat(65)}`, 'METRICS_TOKEN: not a sha256:<64 hex> digest'],
    ['CP_BASE_URL', 'cp.example.com', 'CP_BASE_URL: must be an absolute http(s) URL'],
    ['CP_BASE_URL', 'ftp://cp.example.com', 'CP_BASE_URL: must be an absolute http(s) URL'],
    ['CP_BASE_URL', 'https://cp.example.com/?', 'CP_BASE_URL: must not have a query or fragment'],
    ['CP_BASE_URL', 'https://cp.example.com/#top', 'CP_BASE_URL: must not have a query or fragment'],
    ['CP_BASE_URL', 'https://user:pw@cp.example.com', 'CP_BASE_URL: must not contain credentials'],
    ['CORS_ORIGIN', '*,https://a.example.com', 'CORS_ORIGIN: * cannot be combined with origins'],
    ['CORS_ORIGIN', 'https://a.example.com/', 'CORS_ORIGIN: entry 1 is not an origin scheme://host[:port]'],
    ['CORS_ORIGIN', 'https://a.example.com,a.example.com', 'CORS_ORIGIN: entry 2 is not an origin scheme://host[:port]'],
    ['CORS_ORIGIN', 'https://a.example.com:70000', 'CORS_ORIGIN: entry 1 is not an origin scheme://host[:port]'],
    ['CORS_ORIGIN', ',', 'CORS_ORIGIN: no origin listed'],
    ['CLIENT_IP_HEADER', 'x client ip', 'CLIENT_IP_HEADER: not an HTTP header name (RFC 9110 token)'],
    ['CLIENT_IP_HEADER', 'x-ip:', 'CLIENT_IP_HEADER: not an HTTP header name (RFC 9110 token)'],
    ['WEBHOOK_URL_ALLOWLIST', 'https://hooks.example.com', 'WEBHOOK_URL_ALLOWLIST: entry 1 is not a hostname or .suffix'],
    ['WEBHOOK_URL_ALLOWLIST', 'ok.example,-bad.example', 'WEBHOOK_URL_ALLOWLIST: entry 2 is not a hostname or .suffix'],
    ['WEBHOOK_URL_ALLOWLIST', ' , ', 'WEBHOOK_URL_ALLOWLIST: no host listed'],
    ['DATABASE_URL', 'mysql://u:p@h/db', 'DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    ['CP_ACCEPTED_TRUST_ANCHORS', 'https://a.example,http://b.example', 'CP_ACCEPTED_TRUST_ANCHORS: entry 2 is not an absolute https URI'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'collector:4318', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an absolute http(s) URL'],
  ])('%s=%j → %s', (name, raw, expected) => {
    const errors = errorsOf(loadConfig({ [name]: raw }, OPTS));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
  });

  it('reports every problem at once, one `<VAR>: <problem>` line each', () => {
    const errors = errorsOf(loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', OTEL_ENABLED: 'maybe', CORS_ORIGIN: '*,https://a.b' }, OPTS));
    expect(errors.map((e) => e.split(':')[0])).toEqual(['PORT', 'CORS_ORIGIN', 'LOG_LEVEL', 'OTEL_ENABLED']);
    for (const error of errors) expect(error).toMatch(/^[A-Z][A-Z0-9_]*: \S/);
  });

  it('never falls back to a default for a malformed value', () => {
    expect(loadConfig({ RATE_LIMIT_ENABLED: 'flase' }, OPTS).ok).toBe(false);
  });
});

describe('loadConfig: REVOCATION_CACHE_TTL_MS ≤ REVOCATION_LIST_TTL_SECS × 250', () => {
  it('accepts the boundary', () => {
    expect(loadConfig({ REVOCATION_LIST_TTL_SECS: '300', REVOCATION_CACHE_TTL_MS: '75000' }, OPTS).ok).toBe(true);
  });

  it('refuses a rebuild period longer than a quarter of the list TTL', () => {
    const errors = errorsOf(loadConfig({ REVOCATION_LIST_TTL_SECS: '300', REVOCATION_CACHE_TTL_MS: '75001' }, OPTS));
    expect(errors).toEqual(['REVOCATION_CACHE_TTL_MS: must be at most REVOCATION_LIST_TTL_SECS × 250 (75000)']);
  });

  it('is not checked against a value that failed to parse', () => {
    const errors = errorsOf(loadConfig({ REVOCATION_LIST_TTL_SECS: 'x', REVOCATION_CACHE_TTL_MS: '600000' }, OPTS));
    expect(errors).toEqual(['REVOCATION_LIST_TTL_SECS: not an integer']);
  });
});

describe('loadConfig: production', () => {
  it('accepts a complete production environment without warnings', () => {
    const result = loadConfig(PRODUCTION_ENV, OPTS);
    expect(configOf(result).NODE_ENV).toBe('production');
    expect(result.warnings).toEqual([]);
  });

  it('names every missing required variable', () => {
    const errors = errorsOf(loadConfig({ NODE_ENV: 'production' }, OPTS));
    expect(errors).toEqual([
      'CP_AID_SEED_HEX: required in production',
      'API_KEYS: required in production',
      'ENROLLMENT_SECRET: required in production',
      'SECRETS_KEY: required in production',
      'DATABASE_URL: required in production',
    ]);
  });

  it('counts an API_KEYS of only commas as missing', () => {
    expect(errorsOf(loadConfig({ ...PRODUCTION_ENV, API_KEYS: ' , ' }, OPTS))).toEqual(['API_KEYS: required in production']);
  });

  it('refuses API keys shorter than 24 characters, by position', () => {
    const errors = errorsOf(loadConfig({ ...PRODUCTION_ENV, API_KEYS: `${PROD_KEY},${'k'.repeat(23)}` }, OPTS));
    expect(errors).toEqual(['API_KEYS: key 2 is shorter than 24 characters']);
  });

  it('accepts a sha256: digest entry in place of a long enough raw key', () => {
    expect(configOf(loadConfig({ ...PRODUCTION_ENV, API_KEYS: `sha256:${'c'.repeat(64)},${PROD_KEY}` }, OPTS)).API_KEYS).toHaveLength(2);
  });

  it('refuses WEBHOOK_ALLOW_PRIVATE_TARGETS=true', () => {
    const errors = errorsOf(loadConfig({ ...PRODUCTION_ENV, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }, OPTS));
    expect(errors).toEqual(['WEBHOOK_ALLOW_PRIVATE_TARGETS: must not be true in production']);
  });

  it('is selected by NODE_ENV=production only', () => {
    expect(loadConfig({ NODE_ENV: 'test' }, OPTS).ok).toBe(true);
    expect(loadConfig({ NODE_ENV: 'staging' }, OPTS).ok).toBe(true);
  });

  it('does not apply production rules in development', () => {
    expect(loadConfig({ API_KEYS: 'short', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'yes' }, OPTS).ok).toBe(true);
  });
});

describe('loadConfig: warnings', () => {
  const { CORS_ORIGIN: _cors, CP_BASE_URL: _base, CP_ACCEPTED_TRUST_ANCHORS: _anchors, ...bareProduction } = PRODUCTION_ENV;

  it('warns in production about unset CORS_ORIGIN and CP_BASE_URL and empty trust anchors', () => {
    const result = loadConfig(bareProduction, OPTS);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      'CORS_ORIGIN: unset, using *',
      'CP_BASE_URL: unset, using http://localhost:4000; the CP manifest would fail strict verifiers',
      'CP_ACCEPTED_TRUST_ANCHORS: empty, the CP manifest lists no accepted trust anchor',
    ]);
  });

  it.each([
    ['http://cp.example.com', ['CP_BASE_URL: not https; the CP manifest would fail strict verifiers']],
    ['https://localhost:8443', ['CP_BASE_URL: a localhost host; the CP manifest would fail strict verifiers']],
    ['https://127.0.0.2', ['CP_BASE_URL: a localhost host; the CP manifest would fail strict verifiers']],
    ['http://[::1]:4000', [
      'CP_BASE_URL: not https; the CP manifest would fail strict verifiers',
      'CP_BASE_URL: a localhost host; the CP manifest would fail strict verifiers',
    ]],
  ])('warns in production about CP_BASE_URL=%s', (url, expected) => {
    expect(loadConfig({ ...PRODUCTION_ENV, CP_BASE_URL: url }, OPTS).warnings).toEqual(expected);
  });

  it('warns in production when rate limiting is off', () => {
    expect(loadConfig({ ...PRODUCTION_ENV, RATE_LIMIT_ENABLED: 'no' }, OPTS).warnings)
      .toEqual(['RATE_LIMIT_ENABLED: false, every rate limit is off']);
  });

  it('warns in development about open mode and private webhook targets', () => {
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: '1' }, OPTS).warnings).toEqual([
      'API_KEYS: empty, API-key routes are open (development only)',
      'WEBHOOK_ALLOW_PRIVATE_TARGETS: true, webhook address-range checks are off (local testing only)',
    ]);
    expect(loadConfig({ API_KEYS: 'dev-key' }, OPTS).warnings).toEqual([]);
  });

  it('keeps warnings next to errors', () => {
    const result = loadConfig({ ...bareProduction, PORT: 'x' }, OPTS);
    expect(result.ok).toBe(false);
    expect(result.warnings).toContain('CORS_ORIGIN: unset, using *');
  });
});
