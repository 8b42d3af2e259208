import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  AnchorListQuerySchema,
  AnchorParamsSchema,
  CreateAnchorBodySchema,
  DeletePinnedKeyQuerySchema,
  PatchAnchorBodySchema,
  PinnedKeyLookupSchema,
  PinnedKeyQuerySchema,
  PinnedKeySchema,
  TrustAnchorListSchema,
  TrustAnchorSchema,
  UpsertPinnedKeyBodySchema,
} from './schemas.js';
import type { Actor, TrustStoreService } from './service.js';

const Empty = Type.Null();

const actorOf = (request: FastifyRequest): Actor => ({ actorId: request.principal.fingerprint, requestId: request.id });

/** Trust anchors and pinned keys (API.md §10); every route takes an API key (default-deny). */
export async function trustStoreRoutes(app: FastifyInstance, opts: { service: TrustStoreService }): Promise<void> {
  const { service } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/trust-anchors',
    { schema: { querystring: AnchorListQuerySchema, response: { 200: TrustAnchorListSchema } } },
    async (request) => service.pageOfAnchors(request.query),
  );

  r.post(
    '/api/trust-anchors',
    {
      config: { idempotency: { scope: 'trust-anchors.create' } },
      schema: { body: CreateAnchorBodySchema, response: { 201: TrustAnchorSchema } },
    },
    async (request, reply) => reply.status(201).send(await service.createAnchor(request.body, actorOf(request))),
  );

  r.get(
    '/api/trust-anchors/:id',
    { schema: { params: AnchorParamsSchema, response: { 200: TrustAnchorSchema } } },
    async (request) => service.getAnchor(request.params.id),
  );

  r.patch(
    '/api/trust-anchors/:id',
    { schema: { params: AnchorParamsSchema, body: PatchAnchorBodySchema, response: { 200: TrustAnchorSchema } } },
    async (request) => service.patchAnchor(request.params.id, request.body, actorOf(request)),
  );

  r.delete(
    '/api/trust-anchors/:id',
    { schema: { params: AnchorParamsSchema, response: { 204: Empty } } },
    async (request, reply) => {
      await service.removeAnchor(request.params.id, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  r.get(
    '/api/pinned-keys',
    { schema: { querystring: PinnedKeyQuerySchema, response: { 200: PinnedKeyLookupSchema } } },
    async (request) => service.lookupPinnedKeys(request.query),
  );

  r.post(
    '/api/pinned-keys',
    {
      config: { idempotency: { scope: 'pinned-keys.upsert' } },
      schema: { body: UpsertPinnedKeyBodySchema, response: { 201: PinnedKeySchema } },
    },
    async (request, reply) => reply.status(201).send(await service.upsertPinnedKey(request.body, actorOf(request))),
  );

  r.delete(
    '/api/pinned-keys',
    { schema: { querystring: DeletePinnedKeyQuerySchema, response: { 204: Empty } } },
    async (request, reply) => {
      await service.removePinnedKey(request.query, actorOf(request));
      return reply.status(204).send(null);
    },
  );
}
