import { setImmediate } from 'node:timers/promises';
import fp from 'fastify-plugin';
import { Counter, Gauge, type Registry } from 'prom-client';
import { isProduction } from '../config/index.js';
import { rateLimited } from '../lib/errors.js';
import { TokenBucketLimiter } from '../lib/token-bucket.js';
import { BUCKET_NAMES, bucketSpecs, pickBucket, rawKeyOf } from './rate-limit-buckets.js';

const SWEEP_INTERVAL_MS = 60_000;
/** Buckets one sweep slice visits before yielding to the event loop (~2 ms). */
const SWEEP_SLICE = 10_000;
const PREFIX = 'aitp_control_plane_rate_limit_';

function createRateLimitMetrics(registry: Registry) {
  const registers = [registry];
  const drops = new Counter({ name: `${PREFIX}drops_total`, help: '429s by bucket', labelNames: ['bucket'] as const, registers });
  for (const bucket of BUCKET_NAMES) drops.inc({ bucket }, 0);
  return {
    drops,
    trackedKeys: new Gauge({ name: `${PREFIX}tracked_keys`, help: 'rate-limit buckets in memory', registers }),
    evictions: new Counter({ name: `${PREFIX}evictions_total`, help: 'rate-limit buckets evicted (LRU)', registers }),
  };
}

/**
 * Token-bucket limiter (OPERATIONS.md §8, API.md §0.3). Its onRequest hook runs after auth has
 * resolved the key and before auth enforces 401 (contract Ruling 5), so key guessing spends
 * `public-ip` tokens. Headers are set here, so errors, 429s and replays all carry them.
 */
export default fp(
  async (app) => {
    const metrics = createRateLimitMetrics(app.metrics.registry);
    const specs = bucketSpecs(app.config);
    if (!app.config.RATE_LIMIT_ENABLED || specs.size === 0) return;

    const limiter = new TokenBucketLimiter(app.config.RATE_LIMIT_MAX_KEYS);
    const openMode = app.config.API_KEYS.length === 0 && !isProduction(app.config);
    let evictionsSeen = 0;
    app.metrics.collectors.push(() => {
      metrics.trackedKeys.set(limiter.size);
      metrics.evictions.inc(limiter.evictions - evictionsSeen);
      evictionsSeen = limiter.evictions;
    });

    app.addHook('onRequest', (request, reply, done) => {
      const bucket = pickBucket(request, openMode);
      const enabled = bucket === undefined ? undefined : specs.get(bucket);
      if (bucket === undefined || enabled === undefined) return done();
      request.rateLimitBucket = bucket;
      const rawKey = rawKeyOf(bucket, request);
      if (rawKey === undefined) {
        // No address means no bucket; no shared `unknown` key either (§8). Nobody reads this 429.
        metrics.drops.inc({ bucket });
        return done(rateLimited(bucket, 1));
      }
      const result = limiter.take(enabled.spec, rawKey, app.clock.now());
      reply.header('x-ratelimit-limit', enabled.limitHeader);
      reply.header('x-ratelimit-remaining', String(result.remaining));
      reply.header('x-ratelimit-reset', String(result.resetEpochSecs));
      if (result.allowed) return done();
      metrics.drops.inc({ bucket });
      done(rateLimited(bucket, result.retryAfterSecs));
    });

    app.jobs.register({
      name: 'rate-limit-sweep',
      intervalMs: SWEEP_INTERVAL_MS,
      firstRunMs: SWEEP_INTERVAL_MS,
      run: async (signal) => {
        let dropped = 0;
        for (;;) {
          const slice = limiter.sweepSlice(app.clock.now(), SWEEP_SLICE);
          dropped += slice.dropped;
          if (slice.done || signal.aborted) break;
          await setImmediate(); // RATE_LIMIT_MAX_KEYS may be 10^7: let requests in between slices
        }
        app.log.debug({ dropped, tracked: limiter.size }, 'rate-limit sweep');
      },
    });
  },
  { name: 'rate-limit', dependencies: ['config', 'clock', 'metrics', 'client-ip', 'auth', 'jobs'] },
);
