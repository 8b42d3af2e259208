import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { ipRateLimitKey } from '../lib/client-ip.js';
import type { BucketSpec } from '../lib/token-bucket.js';
import { routeAuthMode } from './route-policy.js';

// Which bucket a request is charged to and under which key (OPERATIONS.md §8): the rules the
// rate-limit plugin applies, kept apart from its enforcement.

export const BUCKET_NAMES = ['enroll-ip', 'public-ip', 'api-key'] as const;
export type BucketName = (typeof BUCKET_NAMES)[number];

// §8 row 1 for requests no route matched (a matched route says `rateLimit: 'exempt'` itself).
const EXEMPT_PATHS = new Set(['/api/health', '/api/readyz', '/api/metrics']);

function isExemptPath(url: string): boolean {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  return EXEMPT_PATHS.has(path) || path.startsWith('/.well-known/') || path.startsWith('/api/well-known/');
}

/** Enabled buckets with their `X-RateLimit-Limit` text; a capacity of 0 disables one (§2.4). */
export function bucketSpecs(config: Config): Map<BucketName, { spec: BucketSpec; limitHeader: string }> {
  const capacities: Record<BucketName, number> = {
    'enroll-ip': config.RATE_LIMIT_ENROLLMENT_PER_IP_MIN,
    'public-ip': config.RATE_LIMIT_PUBLIC_PER_IP_MIN,
    'api-key': config.RATE_LIMIT_API_KEY_PER_MIN,
  };
  const specs = new Map<BucketName, { spec: BucketSpec; limitHeader: string }>();
  for (const name of BUCKET_NAMES) {
    const capacity = capacities[name];
    if (capacity > 0) specs.set(name, { spec: { name, capacity, windowMs: config.RATE_LIMIT_WINDOW_MS }, limitHeader: String(capacity) });
  }
  return specs;
}

/** Bucket selection, first match (OPERATIONS.md §8 table); undefined = exempt. */
export function pickBucket(request: FastifyRequest, openMode: boolean): BucketName | undefined {
  if (request.method === 'OPTIONS') return undefined;
  let config: FastifyContextConfig | undefined;
  if (request.is404) {
    if (isExemptPath(request.url)) return undefined;
  } else {
    config = request.routeOptions.config;
    if (config.rateLimit === 'exempt') return undefined;
    if (config.rateLimit === 'enroll-ip') return 'enroll-ip';
  }
  if (request.principal.keyState === 'valid') return 'api-key';
  if (openMode && config !== undefined && routeAuthMode(request.method, config) === 'apiKey') return 'api-key';
  return 'public-ip';
}

/** The bucket's raw key; undefined when the peer has no address left (it already hung up). */
export function rawKeyOf(bucket: BucketName, request: FastifyRequest): string | undefined {
  if (bucket === 'api-key' && request.principal.keyState === 'valid') return request.principal.fingerprint;
  if (request.clientIp === '') return undefined;
  const ipKey = ipRateLimitKey(request.clientIp);
  return bucket === 'api-key' ? `anon:${ipKey}` : ipKey;
}
