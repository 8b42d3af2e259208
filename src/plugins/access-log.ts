import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Probes and metrics log their access line at debug (OPERATIONS.md §16). */
    quietAccessLog?: boolean;
  }
}

/** One `request completed` line per request, with the fields of OPERATIONS.md §16. */
export default fp(
  async (app) => {
    app.addHook('onResponse', async (request, reply) => {
      const line = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        url: request.url,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        clientIp: request.clientIp,
        bucket: request.rateLimitBucket ?? null,
        actor: request.principal?.fingerprint ?? null,
      };
      if (request.routeOptions.config?.quietAccessLog === true) request.log.debug(line, 'request completed');
      else request.log.info(line, 'request completed');
    });
  },
  { name: 'access-log', dependencies: ['auth', 'client-ip'] },
);
