import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUuid } from '../../aitp/index.js';
import { jtiInvalid } from '../../lib/errors.js';
import { CreateEntryBodySchema, EntryListQuerySchema, EntryListSchema, RevocationEntrySchema } from './schemas.js';
import { createRevocationService } from './service.js';

/**
 * API.md §6.1: a missing or non-UUID `jti` is JTI_INVALID (`field: "/jti"`), not the generic
 * BODY_INVALID, so it is checked before the schema. Other body shapes are left to the schema.
 */
async function requireJti(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const jti = (body as Record<string, unknown>)['jti'];
  if (typeof jti !== 'string' || !isUuid(jti)) throw jtiInvalid();
}

/** POST and GET /api/revocation/entries (API.md §6). */
export async function revocationRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const service = createRevocationService({
    db: app.db,
    pool: app.pool,
    clock: app.clock,
    rebuildSnapshot: () => app.revocationList.rebuild(),
    pipeline: app.eventPipeline,
    log: app.log,
  });

  r.post(
    '/api/revocation/entries',
    {
      config: { idempotency: { scope: 'revocation.entries' } },
      preValidation: requireJti,
      schema: { body: CreateEntryBodySchema, response: { 200: RevocationEntrySchema, 201: RevocationEntrySchema } },
    },
    async (request, reply) => {
      const result = await service.add(request.body, { fingerprint: request.principal.fingerprint, requestId: request.id });
      return reply.status(result.created ? 201 : 200).send(result.entry);
    },
  );

  r.get('/api/revocation/entries', { schema: { querystring: EntryListQuerySchema, response: { 200: EntryListSchema } } }, async (request) =>
    service.list(request.query),
  );
}
