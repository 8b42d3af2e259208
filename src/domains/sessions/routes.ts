import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import {
  ExportQuerySchema,
  ReplayQuerySchema,
  ReplaySchema,
  SessionDetailSchema,
  SessionExportSchema,
  SessionListQuerySchema,
  SessionListSchema,
  SessionParamsSchema,
} from './schemas.js';
import { createSessionService } from './service.js';

/** GET /api/sessions, /:sessionId, /:sessionId/export, /:sessionId/replay (API.md §4). */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = createSessionService({ db: app.db, clock: app.clock });

  r.get('/api/sessions', { schema: { querystring: SessionListQuerySchema, response: { 200: SessionListSchema } } }, async (request) =>
    service.list(request.query),
  );

  r.get('/api/sessions/:sessionId', { schema: { params: SessionParamsSchema, response: { 200: SessionDetailSchema } } }, async (request) =>
    service.detail(request.params.sessionId),
  );

  r.get(
    '/api/sessions/:sessionId/export',
    { schema: { params: SessionParamsSchema, querystring: ExportQuerySchema, response: { 200: SessionExportSchema } } },
    async (request, reply) => {
      const { sessionId } = request.params;
      const format = request.query.format ?? 'json';
      const result = await service.export(sessionId, format);
      if (result.truncated) reply.header('x-aitp-export-truncated', 'true');
      if (format === 'jsonl') {
        reply
          .type('application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="session-${encodeURIComponent(sessionId)}.jsonl"`);
      } else {
        reply.type('application/json; charset=utf-8');
      }
      return reply.send(Readable.from(result.chunks));
    },
  );

  r.get(
    '/api/sessions/:sessionId/replay',
    { schema: { params: SessionParamsSchema, querystring: ReplayQuerySchema, response: { 200: ReplaySchema } } },
    async (request) => service.replay(request.params.sessionId, request.query),
  );
}
