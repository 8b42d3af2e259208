import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { sendJsonText } from '../../plugins/json-text-reply.js';
import { toAppError } from '../../plugins/error-handler.js';
import type { EventMetrics } from './metrics.js';
import { HistoryQuerySchema, HistoryResponseSchema, IngestBodySchema, IngestResultSchema } from './schemas.js';
import type { EventsService } from './service.js';

/** The one route with a larger body cap (contract README §Bodies and validation). */
export const INGEST_BODY_LIMIT = 262_144;

export interface EventRoutesOptions {
  service: EventsService;
  metrics: EventMetrics;
}

export async function eventRoutes(app: FastifyInstance, opts: EventRoutesOptions): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service, metrics } = opts;

  r.post(
    '/api/events',
    {
      bodyLimit: INGEST_BODY_LIMIT,
      config: { idempotency: { scope: 'events.ingest' } },
      schema: { body: IngestBodySchema, response: { 200: IngestResultSchema } },
      // Runs before the app's error handler, which renders (and logs) what this rethrows.
      errorHandler: (err, request) => {
        const appError = toAppError(err);
        if (appError.code !== 'BODY_INVALID' && appError.code !== 'PAYLOAD_TOO_LARGE') throw err;
        metrics.batches.inc({ outcome: 'rejected' });
        throw withEntryIndex(appError, request);
      },
    },
    async (request) => service.ingest(request.body, request.principal.fingerprint),
  );

  r.get(
    '/api/events/history',
    { schema: { querystring: HistoryQuerySchema, response: { 200: HistoryResponseSchema } } },
    async (request, reply) => sendJsonText(reply, await service.history(request.query)),
  );
}

/**
 * A body-level rejection inside one entry (U+0000, a lone surrogate, nesting, a non-finite
 * number, found while the body was parsed) also names the entry's `index` (contract README
 * §Error envelope): `/events/<i>/…` for `{"events":[…]}`, `/<i>/…` for a bare array.
 */
function withEntryIndex(err: AppError, request: FastifyRequest): AppError {
  const field = err.extra.field;
  if (err.code !== 'BODY_INVALID' || err.extra.index !== undefined || field === undefined) return err;
  const bareArray = request.rawBody?.trimStart().startsWith('[') === true;
  const match = (bareArray ? /^\/(\d+)(?:\/|$)/ : /^\/events\/(\d+)(?:\/|$)/).exec(field);
  if (!match) return err;
  return new AppError(err.statusCode, err.code, err.message, { ...err.extra, index: Number(match[1]) }, err.headers);
}
