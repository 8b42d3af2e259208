import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { AUTH, buildTestApp } from '../helpers/app.js';

// Small capacities so a handful of requests empties a bucket (OPERATIONS.md §8, API.md §0.3).
const PUBLIC = 3;
const API_KEY = 4;
const ENROLL = 2;
const WINDOW = 60_000;

/** A clock the test moves; starts on a whole second near now so signed documents stay valid. */
function fakeClock(): Clock & { t: number } {
  return { t: Math.floor(Date.now() / 1000) * 1000, now() { return this.t; } };
}

let ipCounter = 0;
/** A fresh client address per test, so buckets never leak between tests. */
function nextIp(): string {
  ipCounter++;
  return `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

async function testRoutes(app: FastifyInstance): Promise<void> {
  app.get('/test/private', async () => ({ ok: true })); // default: API key
  app.post('/test/enroll', { config: { auth: 'public', rateLimit: 'enroll-ip' } }, async () => ({ ok: true }));
  app.post(
    '/test/echo',
    { config: { auth: 'public' }, schema: { body: Type.Object({ a: Type.String() }) } },
    async (request) => request.body,
  );
}

function limitHeaders(res: LightMyRequestResponse) {
  return {
    limit: res.headers['x-ratelimit-limit'],
    remaining: res.headers['x-ratelimit-remaining'],
    reset: res.headers['x-ratelimit-reset'],
    retryAfter: res.headers['retry-after'],
  };
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

async function metricsText(app: FastifyInstance): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
}

describe('rate limiter through the app', () => {
  let app: FastifyInstance;
  const clock = fakeClock();
  const t0Secs = clock.t / 1000;
  beforeAll(async () => {
    ({ app } = await buildTestApp(
      { RATE_LIMIT_PUBLIC_PER_IP_MIN: PUBLIC, RATE_LIMIT_API_KEY_PER_MIN: API_KEY, RATE_LIMIT_ENROLLMENT_PER_IP_MIN: ENROLL },
      { clock, beforeReady: testRoutes },
    ));
  });
  afterAll(async () => {
    await app.close();
  });
  const get = (url: string, remoteAddress: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, remoteAddress, headers });

  it('lets N requests pass on a public route with exact headers; N+1 gets the 429 of API.md §0.3', async () => {
    const ip = nextIp();
    const passed = [];
    for (let i = 0; i < PUBLIC; i++) passed.push(await get('/api/aitp/handshake/x', ip));
    expect(passed.map((r) => r.statusCode)).toEqual([501, 501, 501]);
    expect(passed.map(limitHeaders)).toEqual([
      { limit: '3', remaining: '2', reset: String(t0Secs + 20), retryAfter: undefined },
      { limit: '3', remaining: '1', reset: String(t0Secs + 40), retryAfter: undefined },
      { limit: '3', remaining: '0', reset: String(t0Secs + 60), retryAfter: undefined },
    ]);

    const denied = await get('/api/aitp/handshake/x', ip);
    expect(denied.statusCode).toBe(429);
    expect(denied.body).toBe('{"error":"rate limit exceeded","code":"RATE_LIMITED","bucket":"public-ip"}');
    expect(denied.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(limitHeaders(denied)).toEqual({ limit: '3', remaining: '0', reset: String(t0Secs + 60), retryAfter: '20' });
    expect(denied.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('refills continuously: one token back after window/capacity, Retry-After counts down', async () => {
    const ip = nextIp();
    for (let i = 0; i < PUBLIC; i++) await get('/api/aitp/handshake/x', ip);
    const start = clock.t;
    try {
      clock.t = start + 15_000;
      const early = await get('/api/aitp/handshake/x', ip);
      expect([early.statusCode, early.headers['retry-after']]).toEqual([429, '5']);
      clock.t = start + 20_000;
      const refilled = await get('/api/aitp/handshake/x', ip);
      expect([refilled.statusCode, refilled.headers['x-ratelimit-remaining']]).toEqual([501, '0']);
      expect((await get('/api/aitp/handshake/x', ip)).statusCode).toBe(429);
    } finally {
      clock.t = start;
    }
  });

  it.each([
    ['GET', '/api/health'],
    ['HEAD', '/api/health'],
    ['GET', '/api/readyz'],
    ['GET', '/api/metrics'],
    ['GET', '/.well-known/aitp-manifest'],
    ['GET', '/api/well-known/aitp-manifest'],
    ['GET', '/.well-known/aitp-revocation-list'],
    ['GET', '/.well-known/aitp-audit-checkpoint'],
    ['POST', '/api/health'], // 405 on an exempt path
    ['GET', '/.well-known/unknown-document'], // 404 under /.well-known/* (§8 row 1)
    ['OPTIONS', '/api/aitp/handshake/x'],
  ] as const)('never limits %s %s and sends no X-RateLimit headers', async (method, url) => {
    const ip = nextIp();
    for (let i = 0; i < PUBLIC + 3; i++) {
      const res = await app.inject({ method, url, remoteAddress: ip, headers: { origin: 'https://ui.example' } });
      expect(res.statusCode, `${method} ${url} #${i + 1}`).not.toBe(429);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    // The same client still has its whole public-ip bucket.
    expect((await get('/api/aitp/handshake/x', ip)).headers['x-ratelimit-remaining']).toBe(String(PUBLIC - 1));
  });

  it('charges unknown paths to public-ip (404 keeps the headers)', async () => {
    const ip = nextIp();
    const res = await get('/api/no-such-route', ip);
    expect(res.statusCode).toBe(404);
    expect(limitHeaders(res)).toMatchObject({ limit: '3', remaining: '2' });
  });

  it('charges a wrong API key to public-ip before the 401, and answers 429 once empty (Ruling 5)', async () => {
    const ip = nextIp();
    const wrong = { authorization: 'Bearer not-the-key-0123456789' };
    const rejected = [];
    for (let i = 0; i < PUBLIC; i++) rejected.push(await get('/test/private', ip, wrong));
    expect(rejected.map((r) => [r.statusCode, r.json().code, r.headers['x-ratelimit-remaining']])).toEqual([
      [401, 'INVALID_API_KEY', '2'],
      [401, 'INVALID_API_KEY', '1'],
      [401, 'INVALID_API_KEY', '0'],
    ]);
    const denied = await get('/test/private', ip, wrong);
    expect(denied.statusCode).toBe(429);
    expect(denied.json()).toEqual({ error: 'rate limit exceeded', code: 'RATE_LIMITED', bucket: 'public-ip' });
    // No key at all is the same public-ip bucket: key guessing and anonymous probing share it.
    expect((await get('/test/private', ip)).statusCode).toBe(429);
    expect((await get('/api/aitp/handshake/x', ip)).statusCode).toBe(429);
  });

  it('charges a valid API key to the api-key bucket, on API-key and public routes alike', async () => {
    const ip = nextIp();
    for (let i = 0; i < PUBLIC; i++) await get('/api/aitp/handshake/x', ip); // empties public-ip for this IP
    const keyed = await get('/test/private', ip, AUTH);
    expect(keyed.statusCode).toBe(200);
    expect(limitHeaders(keyed)).toMatchObject({ limit: String(API_KEY), remaining: String(API_KEY - 1) });
    // The api-key bucket follows the key, not the address.
    const elsewhere = await get('/api/aitp/handshake/x', nextIp(), AUTH);
    expect(limitHeaders(elsewhere)).toMatchObject({ limit: String(API_KEY), remaining: String(API_KEY - 2) });
    await get('/test/private', nextIp(), AUTH);
    await get('/test/private', nextIp(), AUTH);
    const denied = await get('/test/private', ip, AUTH);
    expect(denied.statusCode).toBe(429);
    expect(denied.json()).toEqual({ error: 'rate limit exceeded', code: 'RATE_LIMITED', bucket: 'api-key' });
    expect(limitHeaders(denied)).toMatchObject({ limit: String(API_KEY), remaining: '0', retryAfter: '15' });
  });

  it('charges enroll-ip routes to their own bucket', async () => {
    const ip = nextIp();
    const results = [];
    for (let i = 0; i < ENROLL + 1; i++) results.push(await app.inject({ method: 'POST', url: '/test/enroll', remoteAddress: ip }));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 429]);
    expect(results[0]!.headers['x-ratelimit-limit']).toBe(String(ENROLL));
    expect(results[2]!.json()).toMatchObject({ code: 'RATE_LIMITED', bucket: 'enroll-ip' });
    expect(results[2]!.headers['retry-after']).toBe('30');
    // A valid key does not move enroll to the api-key bucket (§8 row 2 comes first).
    const keyed = await app.inject({ method: 'POST', url: '/test/enroll', remoteAddress: ip, headers: AUTH });
    expect(keyed.statusCode).toBe(429);
    // public-ip is untouched.
    expect((await get('/api/aitp/handshake/x', ip)).headers['x-ratelimit-remaining']).toBe(String(PUBLIC - 1));
  });

  it('keeps the headers on errors and answers 429 before the body is read', async () => {
    const ip = nextIp();
    const post = (payload: string) =>
      app.inject({ method: 'POST', url: '/test/echo', remoteAddress: ip, payload, headers: { 'content-type': 'application/json' } });
    const invalid = await post('{not json');
    expect([invalid.statusCode, invalid.json().code]).toEqual([400, 'BODY_INVALID']);
    expect(limitHeaders(invalid)).toMatchObject({ limit: '3', remaining: '2' });
    await post('{"a":"x"}');
    await post('{"a":"x"}');
    const denied = await post('{not json');
    expect([denied.statusCode, denied.json().code]).toEqual([429, 'RATE_LIMITED']);
    const huge = await app.inject({ method: 'POST', url: '/test/echo', remoteAddress: ip, payload: `{"a":"${'x'.repeat(70_000)}"}` });
    expect(huge.statusCode).toBe(429);
  });

  it('ignores a spoofed X-Forwarded-For with TRUSTED_PROXY_HOPS=0', async () => {
    const ip = nextIp();
    const statuses = [];
    for (let i = 0; i < PUBLIC + 1; i++) {
      statuses.push((await get('/api/aitp/handshake/x', ip, { 'x-forwarded-for': `203.0.113.${i + 1}`, 'x-real-ip': `192.0.2.${i + 1}` })).statusCode);
    }
    expect(statuses).toEqual([501, 501, 501, 429]);
  });

  it('keys IPv6 clients by their /64', async () => {
    const prefix = `2001:db8:${(++ipCounter).toString(16)}:1`;
    for (let i = 1; i <= PUBLIC; i++) expect((await get('/api/aitp/handshake/x', `${prefix}::${i}`)).statusCode).toBe(501);
    expect((await get('/api/aitp/handshake/x', `${prefix}:ffff:ffff:ffff:ffff`)).statusCode).toBe(429);
    expect((await get('/api/aitp/handshake/x', `2001:db8:${ipCounter.toString(16)}:2::1`)).statusCode).toBe(501);
    // IPv4-mapped socket addresses are the IPv4 client.
    const v4 = nextIp();
    for (let i = 0; i < PUBLIC; i++) await get('/api/aitp/handshake/x', v4);
    expect((await get('/api/aitp/handshake/x', `::ffff:${v4}`)).statusCode).toBe(429);
  });

  it('counts drops per bucket in /api/metrics (all three pre-seeded) and tracks keys', async () => {
    const drops = (text: string, bucket: string) => metricValue(text, `aitp_control_plane_rate_limit_drops_total{bucket="${bucket}"}`);
    const before = await metricsText(app);
    for (const bucket of ['enroll-ip', 'public-ip', 'api-key']) expect(drops(before, bucket)).toBeGreaterThanOrEqual(0);
    const ip = nextIp();
    for (let i = 0; i < PUBLIC + 2; i++) await get('/api/aitp/handshake/x', ip);
    const after = await metricsText(app);
    expect(drops(after, 'public-ip') - drops(before, 'public-ip')).toBe(2);
    expect(drops(after, 'enroll-ip')).toBe(drops(before, 'enroll-ip'));
    expect(metricValue(after, 'aitp_control_plane_rate_limit_tracked_keys')).toBeGreaterThan(0);
    expect(metricValue(after, 'aitp_control_plane_rate_limit_evictions_total')).toBe(0);
  });

  it('sweeps buckets that refilled to capacity (job rate-limit-sweep)', async () => {
    const start = clock.t;
    try {
      await get('/api/aitp/handshake/x', nextIp());
      expect(metricValue(await metricsText(app), 'aitp_control_plane_rate_limit_tracked_keys')).toBeGreaterThan(0);
      clock.t = start + 2 * WINDOW; // past every bucket the earlier tests touched
      await app.jobs.runOnce('rate-limit-sweep');
      expect(metricValue(await metricsText(app), 'aitp_control_plane_rate_limit_tracked_keys')).toBe(0);
    } finally {
      clock.t = start;
    }
  });
});

describe('rate limiter behind proxies', () => {
  let app: FastifyInstance;
  const proxy = '10.0.0.1';
  beforeAll(async () => {
    ({ app } = await buildTestApp({ RATE_LIMIT_PUBLIC_PER_IP_MIN: PUBLIC, TRUSTED_PROXY_HOPS: 1, CLIENT_IP_HEADER: 'cf-connecting-ip' }));
  });
  afterAll(async () => {
    await app.close();
  });
  const hit = (headers: Record<string, string>) =>
    app.inject({ method: 'GET', url: '/api/aitp/handshake/x', remoteAddress: proxy, headers });

  it('with hops=1 keys by the right-most X-Forwarded-For entry, whatever the client put left of it', async () => {
    const client = nextIp();
    const statuses = [];
    for (let i = 0; i < PUBLIC + 1; i++) statuses.push((await hit({ 'x-forwarded-for': `203.0.113.${i + 1}, ${client}` })).statusCode);
    expect(statuses).toEqual([501, 501, 501, 429]);
    // Another client behind the same proxy has its own bucket.
    expect((await hit({ 'x-forwarded-for': nextIp() })).statusCode).toBe(501);
  });

  it('lets CLIENT_IP_HEADER win over X-Forwarded-For', async () => {
    const client = nextIp();
    const statuses = [];
    for (let i = 0; i < PUBLIC + 1; i++) {
      statuses.push((await hit({ 'cf-connecting-ip': client, 'x-forwarded-for': nextIp() })).statusCode);
    }
    expect(statuses).toEqual([501, 501, 501, 429]);
  });

  it('§8 example on the real enroll route (5/min): five pass the limiter, the sixth gets Retry-After 12', async () => {
    const client = nextIp();
    const enroll = () =>
      app.inject({ method: 'POST', url: '/api/registry/enroll', remoteAddress: proxy, headers: { 'x-forwarded-for': client }, payload: {} });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await enroll());
    // The bodies are invalid: each of the first five is charged, then rejected by validation.
    expect(results.slice(0, 5).map((r) => r.statusCode)).toEqual([400, 400, 400, 400, 400]);
    expect(results.slice(0, 5).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0']);
    expect(results[5]!.statusCode).toBe(429);
    expect(results[5]!.json()).toEqual({ error: 'rate limit exceeded', code: 'RATE_LIMITED', bucket: 'enroll-ip' });
    expect(limitHeaders(results[5]!)).toMatchObject({ limit: '5', remaining: '0', retryAfter: '12' });
  });

  it('falls back to the socket (the proxy) when the chain is shorter than the hops', async () => {
    const statuses = [];
    for (let i = 0; i < PUBLIC + 1; i++) statuses.push((await hit({})).statusCode);
    expect(statuses).toEqual([501, 501, 501, 429]);
  });
});

describe('rate limiter switched off', () => {
  it('RATE_LIMIT_ENABLED=false: no headers, never 429', async () => {
    const { app } = await buildTestApp({ RATE_LIMIT_ENABLED: false, RATE_LIMIT_PUBLIC_PER_IP_MIN: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await app.inject({ method: 'GET', url: '/api/aitp/handshake/x', headers: { authorization: 'Bearer wrong' } });
        expect(res.statusCode).toBe(501);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
      expect(app.jobs.names()).not.toContain('rate-limit-sweep');
      const text = await metricsText(app);
      expect(metricValue(text, 'aitp_control_plane_rate_limit_drops_total{bucket="public-ip"}')).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('open mode charges API-key routes to api-key as anon:<ip>; a capacity of 0 disables only that bucket', async () => {
    const { app } = await buildTestApp(
      { API_KEYS: [], RATE_LIMIT_PUBLIC_PER_IP_MIN: 0, RATE_LIMIT_API_KEY_PER_MIN: 2 },
      { beforeReady: testRoutes },
    );
    try {
      const ip = nextIp();
      for (let i = 0; i < 4; i++) {
        const res = await app.inject({ method: 'GET', url: '/api/aitp/handshake/x', remoteAddress: ip });
        expect([res.statusCode, res.headers['x-ratelimit-limit']]).toEqual([501, undefined]);
      }
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await app.inject({ method: 'GET', url: '/test/private', remoteAddress: ip }));
      expect(results.map((r) => [r.statusCode, r.headers['x-ratelimit-limit']])).toEqual([[200, '2'], [200, '2'], [429, '2']]);
      expect(results[2]!.json()).toMatchObject({ bucket: 'api-key' });
      // anon:<ip> is per client address.
      expect((await app.inject({ method: 'GET', url: '/test/private', remoteAddress: nextIp() })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
