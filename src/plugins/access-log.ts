import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Probes and metrics log their access line at debug (OPERATIONS.md §16). */
    quietAccessLog?: boolean;
  }
}

function accessLine(request: FastifyRequest, reply: FastifyReply) {
  return {
    method: request.method,
    route: request.routeOptions.url ?? 'unmatched',
    url: request.url,
    statusCode: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    clientIp: request.clientIp,
    bucket: request.rateLimitBucket ?? null,
    actor: request.principal?.fingerprint ?? null,
  };
}

/**
 * The access line of a hijacked reply (an SSE stream), which never reaches onResponse: written
 * when the stream ends, with the bytes sent and why it ended.
 */
export function logStreamCompleted(request: FastifyRequest, reply: FastifyReply, end: { bytes: number; reason: string }): void {
  request.log.info({ ...accessLine(request, reply), ...end }, 'request completed');
}

/** One `request completed` line per request, with the fields of OPERATIONS.md §16. */
export default fp(
  async (app) => {
    app.addHook('onResponse', async (request, reply) => {
      const line = accessLine(request, reply);
      if (request.routeOptions.config?.quietAccessLog === true) request.log.debug(line, 'request completed');
      else request.log.info(line, 'request completed');
    });
  },
  { name: 'access-log' },
);
