import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

describe('unknown paths and methods', () => {
  it('answers 404 NOT_FOUND as JSON for an unknown path, without a credential', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
  });

  it('does not normalise a trailing slash', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health/' });
    expect(res.statusCode).toBe(404);
  });

  it('answers 405 METHOD_NOT_ALLOWED with Allow for a known path', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/api/health' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const allow = String(res.headers['allow']).split(/,\s*/);
    expect(allow).toEqual(expect.arrayContaining(['GET', 'HEAD']));
    expect(allow).not.toContain('DELETE');
  });

  it('answers 400 BAD_REQUEST for malformed percent-encoding in the path', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/registry/agents/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BAD_REQUEST' });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('serves HEAD wherever GET is, with an empty body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
  });
});

describe('request id', () => {
  it('echoes a safe x-request-id', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': 'abc.DEF:1-2_3' } });
    expect(res.headers['x-request-id']).toBe('abc.DEF:1-2_3');
  });

  it.each(['has space', 'x'.repeat(129), 'semi;colon', '<script>'])('replaces an unsafe x-request-id %#', async (unsafe) => {
    const res = await app.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': unsafe } });
    expect(res.headers['x-request-id']).toMatch(/^cp-[0-9a-z]+-[0-9a-z]{8}$/);
  });

  it('is present on 404, 405, preflight and public responses', async () => {
    const responses = await Promise.all([
      app.inject({ method: 'GET', url: '/nope' }),
      app.inject({ method: 'POST', url: '/api/readyz' }),
      app.inject({ method: 'OPTIONS', url: '/anything', headers: { origin: 'https://x.example' } }),
      app.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: 'Bearer wrong' } }),
    ]);
    for (const res of responses) expect(res.headers['x-request-id']).toMatch(/^cp-/);
  });
});

describe('common headers and CORS', () => {
  it('sets nosniff and no-store on API responses', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/readyz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers a preflight on any path with 204 and the contract headers, before auth', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/api/events',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe(
      'authorization,content-type,x-request-id,x-aitp-namespace,idempotency-key,last-event-id',
    );
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(res.headers['vary'])).toContain('Origin');
  });
});

describe('bodies', () => {
  let echo: FastifyInstance;
  beforeAll(async () => {
    // A route that exists only in this test, registered on the real app before it is ready.
    ({ app: echo } = await buildTestApp({}, { beforeReady: registerEchoRoute }));
  });
  afterAll(async () => {
    await echo.close();
  });

  it('answers 413 PAYLOAD_TOO_LARGE as JSON above the 64 KiB default cap, body never parsed', async () => {
    const res = await echo.inject({ method: 'POST', url: '/test/echo', headers: AUTH, payload: `"${'x'.repeat(70_000)}"` });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('parses JSON whatever the content type', async () => {
    const res = await echo.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      payload: '{"name":"a","n":1}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'a', n: 1 });
  });

  it.each([
    ['not JSON', '{"name":', ''],
    ['wrong type', '{"name":5}', '/name'],
    ['missing member', '{"n":1}', '/name'],
    ['U+0000', '{"name":"a\\u0000b"}', '/name'],
    ['lone surrogate', '{"name":"\\ud800"}', '/name'],
    ['lone surrogate in a key', '{"name":"a","\\udc00":1}', '/\udc00'],
    ['non-finite number', '{"name":"a","n":1e400}', '/n'],
    ['deep nesting', `{"name":"a","deep":${'['.repeat(70)}${']'.repeat(70)}}`, undefined],
  ])('answers 400 BODY_INVALID for %s', async (_label, payload, field) => {
    const res = await echo.inject({ method: 'POST', url: '/test/echo', headers: AUTH, payload });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('BODY_INVALID');
    if (field !== undefined) expect(body.field).toBe(field);
  });

  it('answers 400 BAD_REQUEST with field for a bad or repeated query parameter', async () => {
    const bad = await echo.inject({ method: 'POST', url: '/test/echo?flag=maybe', headers: AUTH, payload: '{"name":"a"}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'flag' });
    const twice = await echo.inject({ method: 'POST', url: '/test/echo?flag=1&flag=0', headers: AUTH, payload: '{"name":"a"}' });
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'flag' });
  });

  it('answers 404 for a path parameter of the wrong shape', async () => {
    const res = await echo.inject({ method: 'GET', url: '/test/items/not-a-uuid', headers: AUTH });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('adds CORS headers and the request id to denials too', async () => {
    const res = await echo.inject({ method: 'POST', url: '/test/echo', headers: { origin: 'https://x.example', authorization: 'nope' }, payload: '{}' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-expose-headers']).toContain('x-request-id');
    expect(res.headers['x-request-id']).toMatch(/^cp-/);
  });

  it('never leaks internals in a 500', async () => {
    const res = await echo.inject({ method: 'GET', url: '/test/boom', headers: AUTH });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error', code: 'INTERNAL_ERROR' });
  });
});

async function registerEchoRoute(app: FastifyInstance): Promise<void> {
  app.post(
    '/test/echo',
    {
      schema: {
        querystring: Type.Object({ flag: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])) }),
        body: Type.Object({ name: Type.String(), n: Type.Optional(Type.Number()) }),
      },
    },
    async (request) => request.body,
  );
  app.get(
    '/test/items/:id',
    { schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } },
    async () => ({ ok: true }),
  );
  app.get('/test/boom', async () => {
    throw new Error('secret internal detail: password=hunter2');
  });
}
