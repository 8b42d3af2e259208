import fp from 'fastify-plugin';
import { assertSafeParams, assertSafeQuery } from '../lib/query.js';
import { decodeUtf8Body, parseJsonBody } from '../lib/safe-json.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received (UTF-8), for routes that verify signed bytes. */
    rawBody?: string;
  }
}

/**
 * Bodies are JSON whatever the Content-Type (contract README §Bodies and validation); routes
 * that take no body ignore one. Size caps are Fastify's bodyLimit (Content-Length first, then
 * while streaming) → 413 before anything is parsed.
 */
/** Cap for every route that does not name its own (contract README §Bodies and validation). */
export const DEFAULT_BODY_LIMIT = 65_536;

export default fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= DEFAULT_BODY_LIMIT;
    });
    // Text PostgreSQL cannot store (U+0000, a lone surrogate) never reaches a query: in a path
    // parameter no such row can exist → 404 (Ruling 16); in a query value → 400 BAD_REQUEST.
    app.addHook('preValidation', async (request) => {
      if (request.params !== null && typeof request.params === 'object') assertSafeParams(request.params as Record<string, unknown>);
      if (request.query !== null && typeof request.query === 'object') assertSafeQuery(request.query as Record<string, unknown>);
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      if (request.routeOptions.schema?.body === undefined) {
        done(null, undefined);
        return;
      }
      try {
        const text = decodeUtf8Body(body as Buffer);
        request.rawBody = text;
        done(null, parseJsonBody(text));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  },
  { name: 'body' },
);
