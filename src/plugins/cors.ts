import cors from '@fastify/cors';
import fp from 'fastify-plugin';

// Contract README §CORS: applied to every response, preflights answered 204 before auth.
export const CORS_METHODS = 'GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS';
const ALLOWED_HEADERS = 'authorization,content-type,x-request-id,x-aitp-namespace,idempotency-key,last-event-id';
const EXPOSED_HEADERS =
  'x-request-id,retry-after,x-ratelimit-limit,x-ratelimit-remaining,x-ratelimit-reset,idempotency-replayed,content-disposition,x-aitp-export-truncated';

export default fp(
  async (app) => {
    const allowed = app.config.CORS_ORIGIN;
    const allowAll = allowed.includes('*');
    const origins = new Set(allowed);
    await app.register(cors, {
      hook: 'onRequest',
      origin: allowAll ? '*' : (origin, cb) => cb(null, origin !== undefined && origins.has(origin) ? origin : false),
      methods: CORS_METHODS,
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
      credentials: false,
      strictPreflight: false,
      preflight: true,
      optionsSuccessStatus: 204,
      cacheControl: undefined,
    });
    app.addHook('onSend', async (_request, reply) => {
      reply.header('vary', 'Origin');
    });
  },
  { name: 'cors', dependencies: ['config', 'request-id'] },
);
