import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import adminAudit from './domains/admin-audit/index.js';
import auditLog from './domains/audit-log/index.js';
import registry from './domains/registry/index.js';
import eventPipeline from './domains/event-pipeline/index.js';
import events, { INGEST_BODY_LIMIT } from './domains/events/index.js';
import retention from './domains/retention/index.js';
import dashboard from './domains/dashboard/index.js';
import revocation from './domains/revocation/index.js';
import revocationEntries from './domains/revocation/entries.js';
import sessions from './domains/sessions/index.js';
import tcts from './domains/tcts/index.js';
import webhooks from './domains/webhooks/index.js';
import stream from './domains/stream/index.js';
import trustStore from './domains/trust-store/index.js';
import secrets from './domains/secrets/index.js';
import type { Clock } from './lib/clock.js';
import accessLog from './plugins/access-log.js';
import auth from './plugins/auth.js';
import body from './plugins/body.js';
import clock from './plugins/clock.js';
import clientIp from './plugins/client-ip.js';
import configPlugin from './plugins/config.js';
import connectionGuard, { handleClientError } from './plugins/connection-guard.js';
import cors from './plugins/cors.js';
import db from './plugins/db.js';
import dbMetrics from './plugins/db-metrics.js';
import errorHandler, { handleFrameworkError } from './plugins/error-handler.js';
import idempotency from './plugins/idempotency.js';
import identity from './plugins/identity.js';
import jobs from './plugins/jobs.js';
import keyring from './plugins/keyring.js';
import lifecycle from './plugins/lifecycle.js';
import metrics from './plugins/metrics.js';
import notify from './plugins/notify.js';
import openapi from './plugins/openapi.js';
import rateLimit from './plugins/rate-limit.js';
import requestId, { requestIdFor } from './plugins/request-id.js';
import responseHeaders from './plugins/response-headers.js';
import routeTable from './plugins/route-table.js';
import sseHub from './domains/stream/sse-hub.js';
import { adminConfigRoutes } from './routes/admin-config.js';
import { handshakeRoutes } from './routes/handshake.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { wellKnownRoutes } from './routes/well-known.js';

export interface BuildAppOptions {
  config: Config;
  logger: Logger;
  /** false in tests: jobs run only through app.jobs.runOnce(). */
  startJobs?: boolean;
  /** Tests move time with their own clock. */
  clock?: Clock;
}

/** Largest body cap of any route; the body plugin gives every other route DEFAULT_BODY_LIMIT. */
const MAX_BODY_BYTES = INGEST_BODY_LIMIT;

/**
 * REQUEST_TIMEOUT_MS bounds receiving a request (headers and body), never the response, so SSE
 * streams are not cut. Node checks these deadlines only every `connectionsCheckingInterval` (30 s
 * by default) and needs headersTimeout <= requestTimeout for a trickled body to be cut at all.
 */
function connectionTimeouts(config: Config) {
  const headersTimeout = Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS);
  return {
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: config.MAX_REQUESTS_PER_SOCKET,
    http: { headersTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))) },
  };
}

/** The one factory production and tests share; every server option lives here. */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Our access-log plugin writes the one `request completed` line (OPERATIONS.md §16).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: requestIdFor,
    trustProxy: false,
    bodyLimit: MAX_BODY_BYTES,
    ...connectionTimeouts(opts.config),
    connectionTimeout: 0,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    exposeHeadRoutes: true,
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 2048 },
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false, useDefaults: true } },
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  });

  // Foundations every plugin reads: config, clock, the route table, metrics.
  await app.register(configPlugin, { config: opts.config });
  await app.register(clock, { clock: opts.clock });
  await app.register(routeTable);
  await app.register(openapi);
  await app.register(metrics);
  // The request pipeline; onRequest hooks run in registration order (id, client ip, drain, auth).
  await app.register(connectionGuard);
  await app.register(requestId);
  await app.register(cors);
  await app.register(responseHeaders);
  await app.register(clientIp);
  await app.register(lifecycle);
  await app.register(auth);
  await app.register(body);
  await app.register(errorHandler);
  await app.register(accessLog);
  // Resources with a lifecycle: the keyring, the pool, then what needs it (jobs close before the pool does).
  await app.register(keyring);
  await app.register(db);
  await app.register(idempotency);
  await app.register(jobs, { autoStart: opts.startJobs ?? true });
  // After jobs (its key sweep is a job); its onRequest hook still runs after auth's.
  await app.register(rateLimit);
  // Shared services domains use: LISTEN/NOTIFY, pool metrics, the CP's own identity.
  await app.register(notify);
  await app.register(dbMetrics);
  await app.register(identity);
  // Domains, each after those whose decorators it declares in its dependencies.
  await app.register(revocation);
  await app.register(sseHub);
  await app.register(stream);
  await app.register(webhooks);
  await app.register(auditLog);
  await app.register(eventPipeline);
  await app.register(sessions);
  await app.register(tcts);
  await app.register(dashboard);
  await app.register(events);
  await app.register(registry);
  await app.register(adminAudit);
  await app.register(revocationEntries);
  await app.register(retention);
  await app.register(trustStore);
  await app.register(secrets);
  // System routes no domain owns.
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(handshakeRoutes);
  await app.register(wellKnownRoutes);
  await app.register(adminConfigRoutes);
  return app;
}
