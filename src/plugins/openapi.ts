import swagger from '@fastify/swagger';
import type { FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { VERSION } from '../lib/version.js';
import { routeAuthMode, type AuthMode, type IdempotencyPolicy, type RateLimitPolicy } from './route-policy.js';

const ERROR = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string' },
    index: { type: 'integer' },
    eventType: { type: 'string' },
    bucket: { type: 'string' },
    existing: { type: 'object', properties: { id: { type: 'string' } } },
    verifyCode: { type: 'string' },
    leafHash: { type: 'string' },
  },
};

const SECURITY: Record<AuthMode, Array<Record<string, string[]>>> = {
  public: [],
  apiKey: [{ apiKey: [] }],
  enrollment: [{ enrollmentToken: [] }],
  metrics: [{}, { metricsToken: [] }, { apiKey: [] }],
};

type RouteConfig = { auth?: AuthMode; rateLimit?: RateLimitPolicy; idempotency?: IdempotencyPolicy };

/** The statuses every route may answer besides its own (API.md §0.2), from its declared policy. */
export function policyStatuses(method: string, schema: FastifySchema, config: RouteConfig): number[] {
  const statuses = new Set([500, 503]);
  const auth = routeAuthMode(method, config);
  if (config.rateLimit !== 'exempt') statuses.add(429);
  if (auth === 'apiKey' || auth === 'metrics' || auth === 'enrollment') statuses.add(401);
  if (schema.querystring !== undefined || schema.headers !== undefined) statuses.add(400);
  if (schema.body !== undefined) statuses.add(400).add(413);
  if (schema.params !== undefined) statuses.add(404);
  if (config.idempotency !== undefined) statuses.add(400).add(409).add(422);
  return [...statuses].sort();
}

function documented(schema: FastifySchema | undefined, route: RouteOptions): FastifySchema {
  const base = schema ?? {};
  const config = (route.config ?? {}) as RouteConfig;
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const response: Record<string, unknown> = { ...((base.response as Record<string, unknown> | undefined) ?? {}) };
  if (Object.keys(response).length === 0) response['200'] = { description: 'success', type: 'string' };
  for (const status of policyStatuses(method, base, config)) response[String(status)] ??= ERROR;
  return { ...base, response, security: SECURITY[routeAuthMode(method, config)] } as FastifySchema;
}

/**
 * OpenAPI 3.1 from the route schemas (@fastify/swagger), served at /api/openapi.json. Register
 * before any route. Each operation gets its security from the route's auth mode and the error
 * statuses its policy can produce.
 */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'AITP control plane', version: VERSION },
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'one of API_KEYS' },
            enrollmentToken: { type: 'http', scheme: 'bearer', description: 'token from POST /api/registry/enroll' },
            metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
          },
        },
      },
      transform: ({ schema, url, route }) => ({ schema: documented(schema, route), url }),
    });
    app.get(
      '/api/openapi.json',
      { config: { auth: 'public' } },
      async (_request, reply) => reply.header('cache-control', 'public, max-age=300').type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
    );
  },
  { name: 'openapi' },
);
