import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

// The contract's public set (README §Auth classes), as the routes that exist so far register it.
// A new route is API-key unless it says otherwise; adding a public route means adding it here.
const PUBLIC = new Set([
  'GET /api/health',
  'HEAD /api/health',
  'GET /api/readyz',
  'HEAD /api/readyz',
  'GET /api/metrics',
  'HEAD /api/metrics',
  ...['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].flatMap((m) => [`${m} /api/aitp/handshake`, `${m} /api/aitp/handshake/*`]),
  ...['/.well-known/aitp-manifest', '/api/well-known/aitp-manifest', '/.well-known/aitp-revocation-list', '/api/well-known/aitp-revocation-list']
    .flatMap((url) => [`GET ${url}`, `HEAD ${url}`]),
  'POST /api/registry/enroll',
  ...['/.well-known/aitp-audit-checkpoint', '/api/audit-log/tile/*'].flatMap((url) => [`GET ${url}`, `HEAD ${url}`]),
  ...['/api/registry/agents', '/api/registry/agents/:aid', '/api/registry/agents/:aid/manifest'].flatMap((url) => [`GET ${url}`, `HEAD ${url}`]),
  // Enrollment-token auth (not an API key).
  'POST /api/registry/agents',
  'GET /api/openapi.json',
  'HEAD /api/openapi.json',
  'OPTIONS *',
]);

/** Every API-key route, with a well-formed URL for it. */
function apiKeyRequests(a: FastifyInstance): Array<{ method: string; url: string }> {
  return a.routeTable
    .all()
    .filter((r) => r.auth === 'apiKey' && r.method !== 'HEAD')
    .map((r) => ({ method: r.method, url: r.url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000') }));
}

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

describe('auth classes', () => {
  it('marks exactly the contract routes public; every other route needs an API key', () => {
    const routes = app.routeTable.all();
    const publicRoutes = routes.filter((r) => r.auth !== 'apiKey').map((r) => `${r.method} ${r.url}`);
    const metrics = routes.filter((r) => r.auth === 'metrics').map((r) => `${r.method} ${r.url}`);
    expect(new Set(publicRoutes)).toEqual(PUBLIC);
    expect(metrics).toEqual(['GET /api/metrics', 'HEAD /api/metrics']);
  });

  it('answers public routes without a credential and ignores a wrong one', async () => {
    for (const url of ['/api/health', '/api/readyz', '/api/metrics']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer wrong' } });
      expect(res.statusCode, url).toBe(200);
    }
    const handshake = await app.inject({ method: 'POST', url: '/api/aitp/handshake/hello' });
    expect(handshake.statusCode).toBe(501);
    expect(handshake.json()).toMatchObject({ code: 'HANDSHAKE_UNSUPPORTED' });
  });
});

describe('every API-key route', () => {
  it('answers 401 INVALID_API_KEY to a wrong key and to none', async () => {
    // Key guessing spends public-ip tokens (Ruling 5); this test makes ~100 such requests.
    const { app: unlimited } = await buildTestApp({ RATE_LIMIT_ENABLED: false });
    const requests = apiKeyRequests(unlimited);
    expect(requests.length).toBeGreaterThan(30);
    for (const { method, url } of requests) {
      for (const headers of [{ authorization: 'Bearer wrong-key' }, {}]) {
        const res = await unlimited.inject({ method: method as 'GET', url, headers, payload: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.json().code).toBe('INVALID_API_KEY');
      }
    }
    await unlimited.close();
  });

  it('answers 503 SERVER_MISCONFIGURED in production with no keys (Ruling 22)', async () => {
    const { app: prod } = await buildTestApp({ API_KEYS: [], NODE_ENV: 'production' });
    for (const { method, url } of apiKeyRequests(prod)) {
      const res = await prod.inject({ method: method as 'GET', url, payload: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
      expect(res.statusCode, `${method} ${url}`).toBe(503);
      expect(res.json().code).toBe('SERVER_MISCONFIGURED');
    }
    await prod.close();
  });
});

describe('API keys', () => {
  let keyed: FastifyInstance;
  beforeAll(async () => {
    ({ app: keyed } = await buildTestApp(
      {},
      { beforeReady: async (a) => void a.get('/test/whoami', async (request) => ({ actor: request.principal.fingerprint })) },
    ));
  });
  afterAll(async () => {
    await keyed.close();
  });

  it.each([
    ['Bearer scheme', AUTH.authorization],
    ['lower-case scheme', AUTH.authorization.replace('Bearer', 'bearer')],
    ['raw key', AUTH.authorization.replace('Bearer ', '')],
    ['padded', `  ${AUTH.authorization}  `],
  ])('accepts the %s form', async (_label, authorization) => {
    const res = await keyed.inject({ method: 'GET', url: '/test/whoami', headers: { authorization } });
    expect(res.statusCode).toBe(200);
    expect(res.json().actor).toMatch(/^apikey:[0-9a-f]{16}$/);
  });

  it.each([undefined, 'Bearer wrong-key', 'Basic Zm9vOmJhcg=='])('rejects %s with 401 INVALID_API_KEY', async (authorization) => {
    const res = await keyed.inject({ method: 'GET', url: '/test/whoami', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'INVALID_API_KEY' });
  });

  it('is open in development when no keys are configured', async () => {
    const { app: open } = await buildTestApp(
      { API_KEYS: [] },
      { beforeReady: async (a) => void a.get('/test/whoami', async (request) => ({ actor: request.principal.fingerprint })) },
    );
    const res = await open.inject({ method: 'GET', url: '/test/whoami' });
    expect(res.json()).toEqual({ actor: 'anonymous' });
    await open.close();
  });

  it('answers 503 SERVER_MISCONFIGURED when production somehow runs without keys (Ruling 22)', async () => {
    const { app: prod } = await buildTestApp(
      { API_KEYS: [], NODE_ENV: 'production' },
      { beforeReady: async (a) => void a.get('/test/whoami', async () => ({})) },
    );
    const res = await prod.inject({ method: 'GET', url: '/test/whoami' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVER_MISCONFIGURED' });
    await prod.close();
  });

  it('requires METRICS_TOKEN or an API key on /api/metrics when the token is set', async () => {
    const { app: guarded } = await buildTestApp({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await guarded.inject({ method: 'GET', url: '/api/metrics' })).statusCode).toBe(401);
    const withToken = await guarded.inject({ method: 'GET', url: '/api/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(withToken.statusCode).toBe(200);
    expect((await guarded.inject({ method: 'GET', url: '/api/metrics', headers: AUTH })).statusCode).toBe(200);
    await guarded.close();
  });
});
