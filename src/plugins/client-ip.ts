import fp from 'fastify-plugin';
import { resolveClientIp } from '../lib/client-ip.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Resolved once per request (OPERATIONS.md §8); Fastify's trustProxy stays off. */
    clientIp: string;
    /** Bucket the rate limiter charged, for the access log; undefined when exempt. */
    rateLimitBucket?: string;
  }
}

export default fp(
  async (app) => {
    const settings = { header: app.config.CLIENT_IP_HEADER, hops: app.config.TRUSTED_PROXY_HOPS };
    app.decorateRequest('clientIp', '');
    app.decorateRequest('rateLimitBucket', undefined);
    app.addHook('onRequest', async (request) => {
      request.clientIp = resolveClientIp(settings, request.headers, request.raw.socket.remoteAddress);
    });
  },
  { name: 'client-ip', dependencies: ['config'] },
);
