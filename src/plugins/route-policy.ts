import type { FastifyRequest } from 'fastify';

/**
 * Route policy (STYLE principle 2): every route declares how it is protected in its `config`;
 * the plugins enforce it. Absent `auth` means `apiKey` (default-deny).
 */
export type AuthMode = 'public' | 'apiKey' | 'enrollment' | 'metrics';

/** Rate-limit bucket policy (OPERATIONS.md §8): `exempt` routes are never limited. */
export type RateLimitPolicy = 'exempt' | 'enroll-ip' | 'default';

/** Idempotency scopes (API.md §0.4). */
export type IdempotencyScope =
  | 'agents.register'
  | 'events.ingest'
  | 'webhooks.create'
  | 'webhooks.redeliver'
  | 'trust-anchors.create'
  | 'pinned-keys.upsert'
  | 'revocation.entries';

export interface IdempotencyPolicy {
  scope: IdempotencyScope;
  /**
   * Caller fingerprint of the record id; default `request.principal.fingerprint`. Register uses
   * `agent:<manifest.aid>`, known only after its token check (a route-level preHandler, which
   * runs before the idempotency lookup).
   */
  caller?: (request: FastifyRequest) => string;
  /** What is stored of a 2xx body (webhooks.create drops the secret, API.md §0.4 rule 7). */
  redact?: (body: unknown) => unknown;
  /** Rebuilds a replayed body from the stored one (webhooks.create re-reads the secret). */
  restore?: (request: FastifyRequest, body: unknown) => Promise<unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `Idempotency-Key` handling for the seven scoped POSTs (src/plugins/idempotency.ts). */
    idempotency?: IdempotencyPolicy;
    auth?: AuthMode;
    rateLimit?: RateLimitPolicy;
    /** Streams (SSE) stay out of the latency histogram. */
    excludeFromLatency?: boolean;
  }
}

/** The auth mode a route runs under: its declared one; CORS preflights are always public. */
export function routeAuthMode(method: string, config: { auth?: AuthMode } | undefined): AuthMode {
  if (method === 'OPTIONS') return 'public';
  return config?.auth ?? 'apiKey';
}
