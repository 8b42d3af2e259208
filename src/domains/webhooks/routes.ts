import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdempotencyPolicy } from '../../plugins/route-policy.js';
import {
  BreakerSnapshotSchema,
  CreatedWebhookSchema,
  CreateWebhookBodySchema,
  DeletedWebhookSchema,
  DeliveryDetailSchema,
  DeliveryListSchema,
  DeliveryParamsSchema,
  DeliverySchema,
  ListDeliveriesQuerySchema,
  ListWebhooksQuerySchema,
  PatchWebhookBodySchema,
  RotateSecretBodySchema,
  WebhookListSchema,
  WebhookParamsSchema,
  WebhookSchema,
} from './schemas.js';
import type { Actor, WebhookService } from './service.js';

const actorOf = (request: FastifyRequest): Actor => ({ actorId: request.principal.fingerprint, requestId: request.id });

/**
 * webhooks.create never stores the secret; a replay re-reads it from the row, and omits it if the
 * webhook was deleted meanwhile (API.md §0.4 rule 7).
 */
function createIdempotency(service: WebhookService): IdempotencyPolicy {
  return {
    scope: 'webhooks.create',
    redact: (body) => {
      if (body === null || typeof body !== 'object') return body;
      const { secret: _secret, ...rest } = body as Record<string, unknown>;
      return rest;
    },
    restore: async (_request, body) => {
      const id = (body as { id?: unknown } | null)?.id;
      const secret = typeof id === 'string' ? await service.secretOf(id) : undefined;
      return secret === undefined ? body : { ...(body as Record<string, unknown>), secret };
    },
  };
}

/** Webhook CRUD and circuit breaker (API.md §7.1–§7.7). */
export async function webhookRoutes(app: FastifyInstance, opts: { service: WebhookService }): Promise<void> {
  const { service } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/webhooks', { schema: { querystring: ListWebhooksQuerySchema, response: { 200: WebhookListSchema } } }, async (request) =>
    service.list(request.query),
  );

  r.post(
    '/api/webhooks',
    {
      config: { idempotency: createIdempotency(service) },
      schema: { body: CreateWebhookBodySchema, response: { 201: CreatedWebhookSchema } },
    },
    async (request, reply) => reply.status(201).send(await service.create(request.body, actorOf(request))),
  );

  r.get('/api/webhooks/:id', { schema: { params: WebhookParamsSchema, response: { 200: WebhookSchema } } }, async (request) =>
    service.get(request.params.id),
  );

  // PUT is an exact alias of PATCH: a partial update, never a replacement (the console uses PUT).
  r.route({
    method: ['PATCH', 'PUT'],
    url: '/api/webhooks/:id',
    schema: { params: WebhookParamsSchema, body: PatchWebhookBodySchema, response: { 200: WebhookSchema } },
    handler: async (request) => service.update(request.params.id, request.body, actorOf(request)),
  });

  r.delete('/api/webhooks/:id', { schema: { params: WebhookParamsSchema, response: { 200: DeletedWebhookSchema } } }, async (request) =>
    service.remove(request.params.id, actorOf(request)),
  );

  // Overlapping rotation: the response shows the new secret, the only time it is shown. The body
  // is optional: an absent one means `{}` (WEBHOOK_SECRET_OVERLAP_S); a present one is validated.
  r.post(
    '/api/webhooks/:id/rotate-secret',
    {
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: { params: WebhookParamsSchema, body: RotateSecretBodySchema, response: { 200: CreatedWebhookSchema } },
    },
    async (request) => service.rotateSecret(request.params.id, request.body.overlapSeconds, actorOf(request)),
  );

  r.get(
    '/api/webhooks/:id/circuit-breaker',
    { schema: { params: WebhookParamsSchema, response: { 200: BreakerSnapshotSchema } } },
    async (request) => service.breaker(request.params.id),
  );

  r.post(
    '/api/webhooks/:id/circuit-breaker/reset',
    { schema: { params: WebhookParamsSchema, response: { 200: BreakerSnapshotSchema } } },
    async (request) => service.resetBreaker(request.params.id, actorOf(request)),
  );
}

/** Delivery history and redelivery (API.md §7.8–§7.10). */
export async function deliveryRoutes(app: FastifyInstance, opts: { service: WebhookService }): Promise<void> {
  const { service } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/webhooks/:id/deliveries',
    { schema: { params: WebhookParamsSchema, querystring: ListDeliveriesQuerySchema, response: { 200: DeliveryListSchema } } },
    async (request) => service.deliveries(request.params.id, request.query),
  );

  r.get(
    '/api/webhooks/:id/deliveries/:deliveryId',
    { schema: { params: DeliveryParamsSchema, response: { 200: DeliveryDetailSchema } } },
    async (request) => service.delivery(request.params.id, request.params.deliveryId),
  );

  r.post(
    '/api/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: { idempotency: { scope: 'webhooks.redeliver' } },
      schema: { params: DeliveryParamsSchema, response: { 202: DeliverySchema } },
    },
    async (request, reply) => {
      const delivery = await service.redeliver(request.params.id, request.params.deliveryId, actorOf(request));
      return reply.status(202).send(delivery);
    },
  );
}
