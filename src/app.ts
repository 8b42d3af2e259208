import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import revocation from './domains/revocation/index.js';
import type { Clock } from './lib/clock.js';
import accessLog from './plugins/access-log.js';
import auth from './plugins/auth.js';
import body from './plugins/body.js';
import clock from './plugins/clock.js';
import clientIp from './plugins/client-ip.js';
import configPlugin from './plugins/config.js';
import cors from './plugins/cors.js';
import db from './plugins/db.js';
import errorHandler, { handleFrameworkError } from './plugins/error-handler.js';
import idempotency from './plugins/idempotency.js';
import identity from './plugins/identity.js';
import jobs from './plugins/jobs.js';
import lifecycle from './plugins/lifecycle.js';
import metrics from './plugins/metrics.js';
import notify from './plugins/notify.js';
import requestId, { requestIdFor } from './plugins/request-id.js';
import responseHeaders from './plugins/response-headers.js';
import routeTable from './plugins/route-table.js';
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

/** Largest body cap of any route (POST /api/events); the body plugin gives every other route 65536. */
const MAX_BODY_BYTES = 262_144;

/** The one factory production and tests share; every server option lives here. */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    disableRequestLogging: true,
    genReqId: requestIdFor,
    requestIdLogLabel: 'reqId',
    trustProxy: false,
    bodyLimit: MAX_BODY_BYTES,
    keepAliveTimeout: 72_000,
    requestTimeout: 0,
    connectionTimeout: 0,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    exposeHeadRoutes: true,
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 2048 },
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false, useDefaults: true } },
    frameworkErrors: handleFrameworkError,
  });

  await app.register(configPlugin, { config: opts.config });
  await app.register(clock, { clock: opts.clock });
  await app.register(routeTable);
  await app.register(metrics);
  await app.register(requestId);
  await app.register(cors);
  await app.register(responseHeaders);
  await app.register(clientIp);
  await app.register(lifecycle);
  await app.register(auth);
  await app.register(body);
  await app.register(errorHandler);
  await app.register(accessLog);
  await app.register(db);
  await app.register(idempotency);
  await app.register(jobs, { autoStart: opts.startJobs ?? true });
  await app.register(notify);
  await app.register(identity);
  await app.register(revocation);

  // domains

  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(handshakeRoutes);
  await app.register(wellKnownRoutes);
  return app;
}
