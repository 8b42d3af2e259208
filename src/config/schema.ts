import { hostname } from 'node:os';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { DEFAULT_PORT, LOG_LEVELS, VARIABLES, defaultOf, type DefaultContext } from './variables.js';

// The parsed configuration: keys are the env var names verbatim (STYLE.md §Naming), values are
// already typed and normalised by loadConfig (OPERATIONS.md §3). Ranges and formats live in the
// table (variables.ts); this schema fixes the shapes the rest of the code relies on.
// Lists are string arrays, `[]` meaning unset. CORS_ORIGIN is `['*']` (any origin) or a list
// of normalised origins; `*` never appears next to an origin.
const StringList = () => Type.Array(Type.String());

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Optional(Type.String()),
  PORT: Type.Integer(),
  HOST: Type.String(),
  DATA_DIR: Type.String(),
  REPLICA_ID: Type.String(),
  REQUEST_TIMEOUT_MS: Type.Integer(),
  HEADERS_TIMEOUT_MS: Type.Integer(),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer(),
  MAX_REQUESTS_PER_SOCKET: Type.Integer(),

  CP_AID_SEED_HEX: Type.Optional(Type.String()),
  CP_BASE_URL: Type.String(),
  CP_ACCEPTED_TRUST_ANCHORS: StringList(),
  REVOCATION_LIST_TTL_SECS: Type.Integer(),
  REVOCATION_CACHE_TTL_MS: Type.Integer(),

  API_KEYS: StringList(),
  ENROLLMENT_SECRET: Type.Optional(Type.String()),
  ENROLLMENT_SECRET_PREVIOUS: StringList(),
  SECRETS_KEY: Type.Optional(Type.String()),
  SECRETS_KEY_PREVIOUS: StringList(),
  CORS_ORIGIN: StringList(),
  METRICS_TOKEN: Type.Optional(Type.String()),

  RATE_LIMIT_ENABLED: Type.Boolean(),
  RATE_LIMIT_WINDOW_MS: Type.Integer(),
  RATE_LIMIT_ENROLLMENT_PER_IP_MIN: Type.Integer(),
  RATE_LIMIT_PUBLIC_PER_IP_MIN: Type.Integer(),
  RATE_LIMIT_API_KEY_PER_MIN: Type.Integer(),
  RATE_LIMIT_MAX_KEYS: Type.Integer(),
  CLIENT_IP_HEADER: Type.Optional(Type.String()),
  TRUSTED_PROXY_HOPS: Type.Integer(),

  MAX_SSE_CONNECTIONS: Type.Integer(),
  MAX_AUDIT_EVENTS_MEMORY: Type.Integer(),
  SSE_HEARTBEAT_MS: Type.Integer(),
  SSE_MAX_BUFFERED_BYTES: Type.Integer(),

  RETENTION_ENABLED: Type.Boolean(),
  RETENTION_INTERVAL_MS: Type.Integer(),
  RETENTION_BATCH_LIMIT: Type.Integer(),
  RETENTION_SWEEP_BUDGET_MS: Type.Integer(),
  AUDIT_EVENTS_TTL_DAYS: Type.Integer(),
  WEBHOOK_DELIVERY_TTL_DAYS: Type.Integer(),
  ADMIN_AUDIT_TTL_DAYS: Type.Integer(),
  IDEMPOTENCY_KEY_TTL_DAYS: Type.Integer(),
  EXPIRED_AGENT_GRACE_DAYS: Type.Integer(),
  SESSION_TTL_DAYS: Type.Integer(),

  AUDIT_LOG_ENABLED: Type.Boolean(),
  AUDIT_LOG_INTERVAL_MS: Type.Integer(),
  AUDIT_LOG_TILE_CACHE_MB: Type.Integer(),

  WEBHOOK_URL_ALLOWLIST: StringList(),
  WEBHOOK_RETRY_ATTEMPTS: Type.Integer(),
  WEBHOOK_TIMEOUT_MS: Type.Integer(),
  WEBHOOK_BREAKER_FAILURE_THRESHOLD: Type.Integer(),
  WEBHOOK_BREAKER_RESET_MS: Type.Integer(),
  WEBHOOK_CONCURRENCY: Type.Integer(),
  WEBHOOK_CONCURRENCY_PER_TARGET: Type.Integer(),
  WEBHOOK_POLL_INTERVAL_MS: Type.Integer(),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: Type.Boolean(),
  WEBHOOK_SECRET_OVERLAP_S: Type.Integer(),

  AGENT_EXPIRY_INTERVAL_MS: Type.Integer(),
  DRAIN_DELAY_MS: Type.Integer(),
  SHUTDOWN_TIMEOUT_MS: Type.Integer(),

  DATABASE_URL: Type.Optional(Type.String()),
  DB_POOL_MAX: Type.Integer(),
  DB_CONNECT_TIMEOUT_MS: Type.Integer(),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer(),
  DB_LOCK_TIMEOUT_MS: Type.Integer(),
  DB_QUERY_TIMEOUT_MS: Type.Integer(),
  MIGRATE_ON_BOOT: Type.Boolean(),
  EMBEDDED_PG_PORT: Type.Integer(),

  LOG_LEVEL: Type.Enum(LOG_LEVELS),
  OTEL_ENABLED: Type.Boolean(),
  OTEL_SERVICE_NAME: Type.String(),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(Type.String()),
});

export type Config = Static<typeof ConfigSchema>;

/** OPERATIONS.md §1: `NODE_ENV=production` and nothing else selects production mode. */
export function isProduction(config: Pick<Config, 'NODE_ENV'>): boolean {
  return config.NODE_ENV === 'production';
}

/**
 * Every variable at its default, without reading the environment, then `overrides` on top
 * (not validated: tests may need values loadConfig would refuse, contract Ruling 22).
 * Development unless `overrides.NODE_ENV` is `production`; mode-dependent defaults (HOST,
 * DRAIN_DELAY_MS) follow that mode and CP_BASE_URL follows `overrides.PORT`.
 */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const ctx: DefaultContext = {
    production: isProduction(overrides),
    port: overrides.PORT ?? DEFAULT_PORT,
    hostname: hostname(),
    pid: process.pid,
  };
  const defaults: Record<string, unknown> = {};
  for (const variable of VARIABLES) {
    const value = defaultOf(variable, ctx);
    if (value !== undefined) defaults[variable.name] = value;
  }
  if (!Value.Check(ConfigSchema, defaults)) throw new Error('config: the variable table defaults do not match ConfigSchema');
  return { ...defaults, ...overrides };
}
