// The one table of environment variables (OPERATIONS.md §2). It drives parsing (load-config.ts),
// the defaults of `defaultConfig` (schema.ts), `.env.example` (env-template.ts) and config:check.

export const DEFAULT_PORT = 4000;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** How a raw value is parsed and validated (OPERATIONS.md §3). */
export type VariableKind =
  | { type: 'int'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'string'; maxLength?: number }
  | { type: 'hex'; length: number }
  | { type: 'hex-list'; length: number }
  | { type: 'secret'; minLength: number }
  | { type: 'secret-list'; minLength: number }
  | { type: 'api-keys' }
  | { type: 'secret-or-digest'; minLength: number }
  | { type: 'base-url' }
  | { type: 'http-url' }
  | { type: 'https-uri-list' }
  | { type: 'origins' }
  | { type: 'http-token' }
  | { type: 'host-list' }
  | { type: 'postgres-url' };

export type ParsedValue = string | number | boolean | string[] | undefined;

/** What a mode- or environment-dependent default is computed from. */
export interface DefaultContext {
  production: boolean;
  port: number;
  hostname: string;
  pid: number;
}

export type VariableDefault =
  | { value: ParsedValue }
  | { text: string; compute: (ctx: DefaultContext) => ParsedValue };

export interface VariableSpec {
  name: string;
  kind: VariableKind;
  default: VariableDefault;
  /** A secret's value never appears in an error, a warning, a log line or config:check. */
  secret: boolean;
  requiredInProduction: boolean;
  description: string;
}

export interface VariableGroup {
  title: string;
  /** OPERATIONS.md section the group mirrors. */
  section: string;
  variables: readonly VariableSpec[];
}

type Options = Partial<Pick<VariableSpec, 'secret' | 'requiredInProduction'>>;

function spec(name: string, kind: VariableKind, value: VariableDefault, description: string, options: Options = {}): VariableSpec {
  return { name, kind, default: value, description, secret: false, requiredInProduction: false, ...options };
}

function int(name: string, value: number, min: number, max: number, description: string): VariableSpec {
  return spec(name, { type: 'int', min, max }, { value }, `${description} (${min}–${max})`);
}

function bool(name: string, value: boolean, description: string): VariableSpec {
  return spec(name, { type: 'bool' }, { value }, description);
}

const unset = { value: undefined } as const;
const TTL_DAYS_MAX = 36500;

const SERVER: VariableGroup = {
  title: 'Server',
  section: '2.1',
  variables: [
    spec('NODE_ENV', { type: 'string' }, unset, '`production` selects production mode; anything else is development'),
    int('PORT', DEFAULT_PORT, 1, 65535, 'listen port'),
    spec('HOST', { type: 'string' }, {
      text: '0.0.0.0 in production, 127.0.0.1 in development',
      compute: (ctx) => (ctx.production ? '0.0.0.0' : '127.0.0.1'),
    }, 'listen address (HOSTNAME is ignored: shells and Docker set it)'),
    spec('DATA_DIR', { type: 'string' }, { value: './.data' }, 'development only: embedded Postgres data, generated seed and enrollment secret'),
    spec('REPLICA_ID', { type: 'string', maxLength: 128 }, {
      text: '<os hostname>-<pid>',
      compute: (ctx) => `${ctx.hostname.slice(0, 127 - String(ctx.pid).length)}-${ctx.pid}`,
    }, 'at most 128 chars; logs, webhook leases, OTel service.instance.id'),
    int('REQUEST_TIMEOUT_MS', 30000, 1000, 3600000,
      'time to receive a whole request (headers and body), then 408 REQUEST_TIMEOUT; responses, SSE streams included, are not bounded'),
    int('HEADERS_TIMEOUT_MS', 10000, 1000, 3600000, 'time to receive the request headers, at most REQUEST_TIMEOUT_MS'),
    int('KEEP_ALIVE_TIMEOUT_MS', 72000, 1000, 3600000, 'idle keep-alive connection lifetime; keep above your load balancer idle timeout'),
    int('MAX_REQUESTS_PER_SOCKET', 0, 0, 1000000, 'requests served per connection before it is closed; 0 = no cap'),
  ],
};

const IDENTITY: VariableGroup = {
  title: 'Identity',
  section: '2.2',
  variables: [
    spec('CP_AID_SEED_HEX', { type: 'hex', length: 64 }, unset,
      'exactly 64 hex chars (32-byte Ed25519 seed) giving the CP AID; development generates DATA_DIR/cp-seed.hex. Rotating it changes the AID',
      { secret: true, requiredInProduction: true }),
    spec('CP_BASE_URL', { type: 'base-url' }, {
      text: 'http://localhost:<PORT>',
      compute: (ctx) => `http://localhost:${ctx.port}`,
    }, 'public origin in the CP manifest; absolute http(s), no query/fragment, trailing / dropped; production warns unless https and not localhost'),
    spec('CP_ACCEPTED_TRUST_ANCHORS', { type: 'https-uri-list' }, { value: [] },
      'comma list of https URIs published as accepted_trust_anchors in the CP manifest; production warns when empty'),
    int('REVOCATION_LIST_TTL_SECS', 3600, 300, 86400, 'validity of each signed revocation snapshot in seconds'),
    int('REVOCATION_CACHE_TTL_MS', 60000, 5000, 600000, 'revocation snapshot rebuild period, also at most REVOCATION_LIST_TTL_SECS × 250'),
  ],
};

const AUTHENTICATION: VariableGroup = {
  title: 'Authentication and exposure',
  section: '2.3',
  variables: [
    spec('API_KEYS', { type: 'api-keys' }, { value: [] },
      'comma list of API keys, each a raw key (no whitespace; production: at least 24 chars) or sha256:<64 hex>, the SHA-256 of one (npm run api-key:new). Empty in development = open mode',
      { secret: true, requiredInProduction: true }),
    spec('ENROLLMENT_SECRET', { type: 'secret', minLength: 32 }, unset,
      'HMAC key for enrollment tokens, at least 32 chars; development generates DATA_DIR/enrollment-secret',
      { secret: true, requiredInProduction: true }),
    spec('ENROLLMENT_SECRET_PREVIOUS', { type: 'secret-list', minLength: 32 }, { value: [] },
      'comma list of old enrollment secrets (each at least 32 chars) accepted for verification only during a rotation',
      { secret: true }),
    spec('SECRETS_KEY', { type: 'hex', length: 64 }, unset,
      'exactly 64 hex chars (a 32-byte AES-256-GCM key) sealing stored credentials (webhook secrets); development generates DATA_DIR/secrets-key',
      { secret: true, requiredInProduction: true }),
    spec('SECRETS_KEY_PREVIOUS', { type: 'hex-list', length: 64 }, { value: [] },
      'comma list of old SECRETS_KEY values (64 hex chars each) used only to open sealed credentials until secrets:reseal reports failed 0',
      { secret: true }),
    spec('CORS_ORIGIN', { type: 'origins' }, { value: ['*'] },
      '* or a comma list of origins scheme://host[:port]; production warns when unset'),
    spec('METRICS_TOKEN', { type: 'secret-or-digest', minLength: 16 }, unset,
      'at least 16 chars, or sha256:<64 hex> (its SHA-256); when set /api/metrics needs it (or an API key) as bearer',
      { secret: true }),
  ],
};

const RATE_LIMITING: VariableGroup = {
  title: 'Rate limiting',
  section: '2.4',
  variables: [
    bool('RATE_LIMIT_ENABLED', true, 'false disables every bucket (no headers); production warns'),
    int('RATE_LIMIT_WINDOW_MS', 60000, 1000, 3600000, 'refill period: a bucket refills its full capacity over this time'),
    int('RATE_LIMIT_ENROLLMENT_PER_IP_MIN', 5, 0, 1000000, 'enroll-ip bucket capacity; 0 disables the bucket'),
    int('RATE_LIMIT_PUBLIC_PER_IP_MIN', 60, 0, 1000000, 'public-ip bucket capacity; 0 disables the bucket'),
    int('RATE_LIMIT_API_KEY_PER_MIN', 600, 0, 1000000, 'api-key bucket capacity; 0 disables the bucket'),
    int('RATE_LIMIT_MAX_KEYS', 100000, 1000, 10000000, 'tracked buckets per process, least recently used evicted beyond'),
    spec('CLIENT_IP_HEADER', { type: 'http-token' }, unset,
      'trusted header carrying the client IP (e.g. cf-connecting-ip); wins when present'),
    int('TRUSTED_PROXY_HOPS', 0, 0, 10, 'proxies in front that append to X-Forwarded-For'),
  ],
};

const SSE: VariableGroup = {
  title: 'SSE',
  section: '2.5',
  variables: [
    int('MAX_SSE_CONNECTIONS', 500, 0, 100000, 'open streams per process; 0 rejects all'),
    int('MAX_AUDIT_EVENTS_MEMORY', 500, 1, 10000, 'max events replayed on connect/resume'),
    int('SSE_HEARTBEAT_MS', 15000, 1000, 2147483647, 'heartbeat period'),
    int('SSE_MAX_BUFFERED_BYTES', 1048576, 65536, 67108864, 'per-stream queue before a slow consumer is cut'),
  ],
};

const RETENTION: VariableGroup = {
  title: 'Retention',
  section: '2.6',
  variables: [
    bool('RETENTION_ENABLED', true, 'master switch of the retention sweep'),
    int('RETENTION_INTERVAL_MS', 1800000, 60000, 86400000, 'sweep period'),
    int('RETENTION_BATCH_LIMIT', 10000, 100, 1000000, 'max rows deleted per table per sweep, in chunks of at most 1000'),
    int('RETENTION_SWEEP_BUDGET_MS', 120000, 1000, 3600000, 'time budget per sweep'),
    int('AUDIT_EVENTS_TTL_DAYS', 90, 0, TTL_DAYS_MAX, 'audit events kept this many days, 0 = forever'),
    int('WEBHOOK_DELIVERY_TTL_DAYS', 14, 0, TTL_DAYS_MAX, 'webhook deliveries kept this many days, 0 = forever'),
    int('ADMIN_AUDIT_TTL_DAYS', 365, 0, TTL_DAYS_MAX, 'admin audit rows kept this many days, 0 = forever'),
    int('IDEMPOTENCY_KEY_TTL_DAYS', 7, 0, TTL_DAYS_MAX, 'idempotency keys kept this many days, 0 = forever'),
    int('EXPIRED_AGENT_GRACE_DAYS', 30, 0, TTL_DAYS_MAX, 'deregistered agents kept this many days after deregistered_at, 0 = forever'),
    int('SESSION_TTL_DAYS', 90, 0, TTL_DAYS_MAX, 'sessions kept this many days after updated_at, 0 = forever'),
  ],
};

const AUDIT_LOG: VariableGroup = {
  title: 'Verifiable audit log',
  section: '2.11',
  variables: [
    bool('AUDIT_LOG_ENABLED', true, 'append stored events and admin-audit rows to the Merkle audit log and sign checkpoints'),
    int('AUDIT_LOG_INTERVAL_MS', 1000, 100, 3600000, 'integration period: how far at most the log runs behind committed rows'),
    int('AUDIT_LOG_TILE_CACHE_MB', 64, 0, 4096,
      'memory per process for tiles proofs read (a leaf tile serves 256 entries in 16 KB; 64 MB covers 1M entries)'),
  ],
};

const WEBHOOKS: VariableGroup = {
  title: 'Webhooks',
  section: '2.7',
  variables: [
    spec('WEBHOOK_URL_ALLOWLIST', { type: 'host-list' }, { value: [] },
      'comma list of hosts; .example.com = apex and subdomains; when set, only these hosts'),
    int('WEBHOOK_RETRY_ATTEMPTS', 3, 1, 20, 'total attempts per delivery'),
    int('WEBHOOK_TIMEOUT_MS', 10000, 1000, 60000, 'per attempt, connect to last byte'),
    int('WEBHOOK_BREAKER_FAILURE_THRESHOLD', 5, 1, 1000, 'consecutive failures that open a breaker'),
    int('WEBHOOK_BREAKER_RESET_MS', 60000, 1000, 86400000, 'open to half-open delay'),
    int('WEBHOOK_CONCURRENCY', 8, 1, 256, 'in-flight attempts per process'),
    int('WEBHOOK_CONCURRENCY_PER_TARGET', 2, 1, 256, 'in-flight attempts per webhook per process, so slow receivers cannot take every slot'),
    int('WEBHOOK_POLL_INTERVAL_MS', 5000, 500, 600000, 'dispatcher poll period'),
    bool('WEBHOOK_ALLOW_PRIVATE_TARGETS', false,
      'local testing only: skips the address-range checks; boot fails if true in production'),
    int('WEBHOOK_SECRET_OVERLAP_S', 86400, 0, 604800, 'default overlap of POST /api/webhooks/:id/rotate-secret, in seconds, during which the old secret still signs'),
  ],
};

const JOBS: VariableGroup = {
  title: 'Jobs and lifecycle',
  section: '2.8',
  variables: [
    int('AGENT_EXPIRY_INTERVAL_MS', 300000, 10000, 86400000, 'agent expiry job period'),
    spec('DRAIN_DELAY_MS', { type: 'int', min: 0, max: 600000 }, {
      text: '5000 in production, 0 in development',
      compute: (ctx) => (ctx.production ? 5000 : 0),
    }, 'SIGTERM to listener close delay, for load balancers to notice readyz (0–600000)'),
    int('SHUTDOWN_TIMEOUT_MS', 20000, 1000, 600000, 'budget after the drain delay for in-flight work'),
  ],
};

const DATABASE: VariableGroup = {
  title: 'Database',
  section: '2.9',
  variables: [
    spec('DATABASE_URL', { type: 'postgres-url' }, unset,
      'postgres:// or postgresql:// URL; unset in development = embedded Postgres',
      { secret: true, requiredInProduction: true }),
    int('DB_POOL_MAX', 20, 1, 500, 'pool size, plus 1 dedicated LISTEN connection'),
    int('DB_CONNECT_TIMEOUT_MS', 5000, 500, 60000, 'connect / pool checkout timeout'),
    int('DB_STATEMENT_TIMEOUT_MS', 30000, 1000, 600000, 'statement_timeout on pooled connections'),
    int('DB_LOCK_TIMEOUT_MS', 5000, 0, 600000, 'lock_timeout on pooled connections, 0 = none; a lock wait past it answers 503 DB_UNAVAILABLE'),
    int('DB_QUERY_TIMEOUT_MS', 5000, 500, 600000,
      'client-side bound on each statement, so a frozen database answers 503 DB_UNAVAILABLE; migrations are exempt'),
    bool('MIGRATE_ON_BOOT', true, 'apply pending migrations at boot'),
    int('EMBEDDED_PG_PORT', 54329, 1, 65535, 'development embedded Postgres port, bound to 127.0.0.1'),
  ],
};

const OBSERVABILITY: VariableGroup = {
  title: 'Observability',
  section: '2.10',
  variables: [
    spec('LOG_LEVEL', { type: 'enum', values: LOG_LEVELS }, { value: 'info' }, `one of ${LOG_LEVELS.join(', ')}`),
    bool('OTEL_ENABLED', false, 'start the OpenTelemetry SDK'),
    spec('OTEL_SERVICE_NAME', { type: 'string' }, { value: 'aitp-control-plane' }, 'resource service.name'),
    spec('OTEL_EXPORTER_OTLP_ENDPOINT', { type: 'http-url' }, unset, 'OTLP base URL; /v1/traces is appended'),
    spec('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { type: 'http-url' }, unset, 'full OTLP traces URL, used verbatim; wins over the base URL'),
  ],
};

export const VARIABLE_GROUPS: readonly VariableGroup[] = [
  SERVER, IDENTITY, AUTHENTICATION, RATE_LIMITING, SSE, RETENTION, AUDIT_LOG, WEBHOOKS, JOBS, DATABASE, OBSERVABILITY,
];

export const VARIABLES: readonly VariableSpec[] = VARIABLE_GROUPS.flatMap((group) => group.variables);

/** The default of one variable for a mode and environment (OPERATIONS.md §1, §2). */
export function defaultOf(variable: VariableSpec, ctx: DefaultContext): ParsedValue {
  const value = 'compute' in variable.default ? variable.default.compute(ctx) : variable.default.value;
  // A copy, so that a config edited in place can never change the table's defaults.
  return Array.isArray(value) ? [...value] : value;
}
