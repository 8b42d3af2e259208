import fp from 'fastify-plugin';

/**
 * Every response: `X-Content-Type-Options: nosniff`; `Cache-Control: no-store` unless the route
 * named another value (contract README §Paths and methods).
 */
export default fp(
  async (app) => {
    app.addHook('onSend', async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    });
  },
  { name: 'response-headers' },
);
