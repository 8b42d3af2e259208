import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../lib/errors.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import {
  CheckpointListSchema, ConsistencyProofSchema, ConsistencyQuerySchema, EntryListSchema, EntryParamsSchema, EntrySchema, GoneSchema,
  InclusionProofSchema, InclusionQuerySchema, PageQuery,
} from './schemas.js';
import { parseIndex, type AuditLogService } from './service.js';

const publicRoute = { auth: 'public' } as const;
/** Like the other well-known documents: monitors poll it, so it is never rate limited. */
const wellKnownRoute = { auth: 'public', rateLimit: 'exempt' } as const;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A partial tile's bytes never change either, but clients should move on to the full tile. */
const PARTIAL = 'public, max-age=60';

/** The audit log's HTTP surface: the public checkpoint and tiles, API-key entries and proofs. */
export async function auditLogRoutes(app: FastifyInstance, opts: { service: AuditLogService }): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { service } = opts;

  r.get('/.well-known/aitp-audit-checkpoint', { config: wellKnownRoute }, async (_request, reply) => {
    const note = await service.latestNote();
    if (note === undefined) throw notFound('the audit log has no checkpoint yet');
    return reply.header('cache-control', 'max-age=1').type('text/plain; charset=utf-8').send(note);
  });

  r.get('/api/audit-log/tile/*', { config: publicRoute }, async (request, reply) => {
    const tile = await service.tile((request.params as { '*': string })['*']);
    return reply
      .header('cache-control', tile.full ? IMMUTABLE : PARTIAL)
      .type('application/octet-stream')
      .send(tile.data);
  });

  r.get('/api/audit-log/checkpoints', { schema: { querystring: PageQuery, response: { 200: CheckpointListSchema } } }, async (request) => {
    const page = parsePage(request.query, { defaultLimit: 100, maxLimit: 1000 });
    return listEnvelope('checkpoints', await service.checkpoints(page), page);
  });

  r.get('/api/audit-log/entries', { schema: { querystring: PageQuery, response: { 200: EntryListSchema } } }, async (request) => {
    const page = parsePage(request.query, { defaultLimit: 100, maxLimit: 1000 });
    const { entries, hasMore } = await service.entries(page);
    return { entries, count: entries.length, limit: page.limit, offset: page.offset, hasMore };
  });

  r.get(
    '/api/audit-log/entries/:index',
    { schema: { params: EntryParamsSchema, response: { 200: EntrySchema, 410: GoneSchema } } },
    async (request) => service.entry(parseIndex(request.params.index, 'index')),
  );

  r.get(
    '/api/audit-log/proof/inclusion',
    { schema: { querystring: InclusionQuerySchema, response: { 200: InclusionProofSchema } } },
    async (request) => service.inclusionProof(parseIndex(request.query.index, 'index'), parseIndex(request.query.size, 'size')),
  );

  r.get(
    '/api/audit-log/proof/consistency',
    { schema: { querystring: ConsistencyQuerySchema, response: { 200: ConsistencyProofSchema } } },
    async (request) => service.consistencyProof(parseIndex(request.query.from, 'from'), parseIndex(request.query.to, 'to')),
  );
}
