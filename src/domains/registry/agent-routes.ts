import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { badRequest } from '../../lib/errors.js';
import { sendJsonText } from '../../plugins/json-text-reply.js';
import { parsePage } from '../../lib/pagination.js';
import { aliased, parseBoolean } from '../../lib/query-params.js';
import { exportAgent } from './export.js';
import type { RegistryService } from './service.js';
import {
  AgentListSchema,
  AgentSchema,
  AidParamsSchema,
  DeregisterResponseSchema,
  ExportQuerySchema,
  ListAgentsQuerySchema,
  type ExportQuery,
} from './schemas.js';

const PUBLIC = { auth: 'public' } as const;
/** Streamed (JSON or NDJSON), so never serialized; described for the OpenAPI document only. */
const ExportResponseSchema = Type.Unknown({ description: '{agent, sessions, tcts, events, exportedAt}, or NDJSON lines {kind, record}' });
const DEFAULT_EVENT_LIMIT = 1000;
const MAX_EVENT_LIMIT = 10_000;

/** `eventLimit` | `event_limit` (snake wins): 1000 by default, clamped to 10000, 0 is a 400. */
function eventLimitOf(query: ExportQuery): number {
  const field = query.event_limit === undefined ? 'eventLimit' : 'event_limit';
  const text = aliased(query.event_limit, query.eventLimit);
  if (text === undefined) return DEFAULT_EVENT_LIMIT;
  const value = Number(text);
  if (value === 0) throw badRequest(`${field} must be at least 1`, field);
  return Math.min(value, MAX_EVENT_LIMIT);
}

/** Discovery, detail, raw manifest, export and deregistration (API.md §2.2, §2.5–§2.8). */
export async function agentRoutes(app: FastifyInstance, opts: { registry: RegistryService }): Promise<void> {
  const { registry } = opts;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/registry/agents',
    { config: PUBLIC, schema: { querystring: ListAgentsQuerySchema, response: { 200: AgentListSchema } } },
    async (request, reply) => {
      const q = request.query;
      const page = parsePage(q, { defaultLimit: 200, maxLimit: 1000 });
      const filter = {
        capability: q.capability,
        aid: q.aid,
        displayName: aliased(q.display_name, q.displayName),
        namespace: q.namespace,
        status: q.status ?? 'active',
        includeManifest: parseBoolean(q.include_manifest) ?? false,
      };
      return sendJsonText(reply, await registry.list(filter, page));
    },
  );

  r.get(
    '/api/registry/agents/:aid',
    { config: PUBLIC, schema: { params: AidParamsSchema, response: { 200: AgentSchema } } },
    async (request, reply) => {
      const agent = await registry.get(request.params.aid);
      return sendJsonText(reply.header('cache-control', 'public, max-age=30'), agent);
    },
  );

  r.get(
    '/api/registry/agents/:aid/manifest',
    { config: PUBLIC, schema: { params: AidParamsSchema, response: { 200: Type.String({ description: 'the stored envelope bytes' }) } } },
    async (request, reply) => {
      const body = await registry.manifest(request.params.aid);
      return reply.header('cache-control', 'max-age=60').type('application/json; charset=utf-8').send(body);
    },
  );

  r.get(
    '/api/registry/agents/:aid/export',
    { schema: { params: AidParamsSchema, querystring: ExportQuerySchema, response: { 200: ExportResponseSchema } } },
    async (request, reply) => {
      const { aid } = request.params;
      const format = request.query.format ?? 'json';
      const result = await exportAgent({ pool: app.pool, clock: app.clock }, aid, { format, eventLimit: eventLimitOf(request.query) });
      if (result.truncated) reply.header('x-aitp-export-truncated', 'true');
      if (format === 'json') return reply.type('application/json; charset=utf-8').send(result.body);
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="agent-${encodeURIComponent(aid)}.jsonl"`)
        .send(result.body);
    },
  );

  r.delete(
    '/api/registry/agents/:aid',
    { schema: { params: AidParamsSchema, response: { 200: DeregisterResponseSchema } } },
    async (request) => registry.deregister(request.params.aid, { actorId: request.principal.fingerprint, requestId: request.id }),
  );
}
