/**
 * Route policy (STYLE principle 2): every route declares how it is protected in its `config`;
 * the plugins enforce it. Absent `auth` means `apiKey` (default-deny).
 */
export type AuthMode = 'public' | 'apiKey' | 'enrollment' | 'metrics';

/** Rate-limit bucket policy (OPERATIONS.md §8): `exempt` routes are never limited. */
export type RateLimitPolicy = 'exempt' | 'enroll-ip' | 'default';

declare module 'fastify' {
  interface FastifyContextConfig {
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
