import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { VERSION } from '../lib/version.js';

const PREFIX = 'aitp_control_plane_';
// OPERATIONS.md §15: method is one of the seven CORS methods, else OTHER (closed label set).
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    registry,
    /** Run just before each scrape: cheap in-process reads only (never the DB, §15). */
    collectors: [] as Array<() => void>,
    httpRequests: new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP request latency (SSE excluded)',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    authFailures: new Counter({
      name: `${PREFIX}auth_failures_total`,
      help: '401 responses by credential kind',
      labelNames: ['kind'] as const,
      registers,
    }),
    draining: new Gauge({ name: `${PREFIX}draining`, help: '1 while draining', registers }),
    buildInfo: new Gauge({
      name: `${PREFIX}build_info`,
      help: 'always 1; labels carry the build',
      labelNames: ['version', 'node_version'] as const,
      registers,
    }),
    dbPoolConnections: new Gauge({
      name: `${PREFIX}db_pool_connections`,
      help: 'pool connections by state',
      labelNames: ['state'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'OTHER';
}

/** One prom-client registry per app instance (never the global one), so tests stay isolated. */
export default fp(
  async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const metrics = createMetrics(registry);
    metrics.buildInfo.set({ version: VERSION, node_version: process.version }, 1);
    for (const kind of ['api_key', 'metrics_token', 'enrollment_token']) metrics.authFailures.inc({ kind }, 0);
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: methodLabel(request.method),
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      };
      metrics.httpRequests.inc(labels);
      if (request.routeOptions.config?.excludeFromLatency !== true) {
        metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
      }
    });
  },
  { name: 'metrics' },
);
