import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

// U+0000 cannot be stored in PostgreSQL text: a request value carrying it must never reach a
// statement (which would fail as a 500). Path parameters → 404 NOT_FOUND (Ruling 16); query
// values → 400 BAD_REQUEST naming the parameter. The routes come from the app itself, so a new
// route is covered without editing this file.

const NUL_VALUES = ['%00', 'x%00y', 'aid%3Apubkey%3A%00'];
const METHODS = new Set(['GET', 'HEAD', 'DELETE']);

type Operation = { parameters?: Array<{ in: string; name: string }> };
type Doc = { paths: Record<string, Record<string, Operation>> };

let app: FastifyInstance;
let doc: Doc;
beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
  doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
});
afterAll(async () => {
  await app.close();
});

/** Every routed (method, url) with a named path parameter, one row per parameter and value. */
function pathCases(): Array<{ method: string; url: string; path: string }> {
  const cases: Array<{ method: string; url: string; path: string }> = [];
  for (const route of app.routeTable.all()) {
    if (!METHODS.has(route.method)) continue;
    const names = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
    for (const target of names) {
      for (const value of NUL_VALUES) {
        const path = route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => (name === target ? value : randomUUID()));
        cases.push({ method: route.method, url: route.url, path });
      }
    }
  }
  return cases;
}

/** Every GET operation's documented query parameters, with the path filled with UUIDs. */
function queryCases(): Array<{ path: string; name: string }> {
  const cases: Array<{ path: string; name: string }> = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    const path = template.replace(/\{[A-Za-z]+\}/g, () => randomUUID());
    for (const parameter of operations['get']?.parameters ?? []) {
      if (parameter.in === 'query') cases.push({ path, name: parameter.name });
    }
  }
  return cases;
}

describe('U+0000 in request values that would reach SQL', () => {
  it('answers 404 NOT_FOUND for every path parameter of every GET, HEAD and DELETE route', async () => {
    const cases = pathCases();
    const routes = new Set(cases.map((c) => c.url));
    for (const expected of ['/api/registry/agents/:aid', '/api/registry/agents/:aid/manifest', '/api/registry/agents/:aid/export', '/api/sessions/:sessionId']) {
      expect(routes).toContain(expected);
    }
    expect(cases.some((c) => c.method === 'HEAD')).toBe(true);
    expect(cases.some((c) => c.method === 'DELETE')).toBe(true);
    const failures: string[] = [];
    for (const { method, path } of cases) {
      const res = await app.inject({ method: method as 'GET', url: path, headers: AUTH });
      const ok =
        res.statusCode === 404 &&
        (method === 'HEAD' ? res.body === '' : res.json<{ code?: string }>().code === 'NOT_FOUND' && typeof res.json<{ error?: unknown }>().error === 'string');
      if (!ok) failures.push(`${method} ${path} → ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers 400 BAD_REQUEST with field for every documented query parameter', async () => {
    const cases = queryCases();
    expect(cases.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const { path, name } of cases) {
      for (const value of NUL_VALUES) {
        const res = await app.inject({ method: 'GET', url: `${path}?${encodeURIComponent(name)}=${value}`, headers: AUTH });
        const body = res.json<{ code?: string; field?: string }>();
        if (res.statusCode !== 400 || body.code !== 'BAD_REQUEST' || body.field !== name) {
          failures.push(`GET ${path}?${name}=${value} → ${res.statusCode} ${res.body.slice(0, 120)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
