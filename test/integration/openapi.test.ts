import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';

// Routes whose 200 body is not JSON we describe (signed bytes, Prometheus text, SSE, 501s).
const RAW_BODY_ROUTES = new Set([
  '/api/metrics',
  '/.well-known/aitp-manifest',
  '/api/well-known/aitp-manifest',
  '/.well-known/aitp-revocation-list',
  '/api/well-known/aitp-revocation-list',
  '/api/openapi.json',
  '/api/events/stream',
  '/api/aitp/handshake',
  '/api/aitp/handshake/*',
  '/api/registry/agents/:aid/manifest',
  '/.well-known/aitp-audit-checkpoint',
  '/api/audit-log/tile/*',
]);

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>> };

let app: FastifyInstance;
let doc: Doc;
beforeAll(async () => {
  ({ app } = await buildTestApp());
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['cache-control']).toBe('public, max-age=300');
  doc = res.json();
});
afterAll(async () => {
  await app.close();
});

const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('spells handshake boundaries as the ecosystem does (Ruling 27)', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/cross-org|intra-org|cross-cloud/);
    const session = JSON.stringify(doc.paths['/api/sessions/{sessionId}']?.['get']?.responses['200']);
    expect(session).toContain('"examples":["cross_org"]');
    expect(session).toContain('intra_org, cross_org, cross_cloud');
  });

  it('lists every route the auth matrix knows, with its security and error statuses', () => {
    const routes = app.routeTable.all().filter((r) => r.method !== 'OPTIONS' && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(40);
    const missing: string[] = [];
    for (const route of routes) {
      const operation = Object.entries(doc.paths).find(([path]) => path === toOpenApiPath(route.url) || path.replace('{*}', '*') === route.url)?.[1]?.[route.method.toLowerCase()];
      if (!operation) {
        missing.push(`${route.method} ${route.url}`);
        continue;
      }
      expect(Object.keys(operation.responses), `${route.method} ${route.url}`).toContain('500');
      if (route.auth === 'apiKey') {
        expect(operation.security, route.url).toEqual([{ apiKey: [] }]);
        expect(Object.keys(operation.responses), route.url).toContain('401');
      }
      if (route.auth === 'public') expect(operation.security, route.url).toEqual([]);
    }
    expect(missing).toEqual([]);
  });

  it('fails when a JSON route lacks a response schema', () => {
    const lacking = app.routeTable
      .all()
      .filter((r) => r.method !== 'OPTIONS' && !RAW_BODY_ROUTES.has(r.url) && !r.hasResponseSchema)
      .map((r) => `${r.method} ${r.url}`);
    expect(lacking).toEqual([]);
  });
});
