import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

/** Small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -0, '', 'x', 'x'.repeat(5000), '\u0000', '\ud800', 'aid:pubkey:x', randomUUID(),
  '2026-05-25T12:00:00Z', 'not-a-date', [], {}, [1, 'a', null], { jti: 'nope' }, { manifest: {} }, { url: 'http://127.0.0.1/' },
];
const KEYS = ['jti', 'reason', 'revokedAt', 'url', 'events', 'secret', 'active', 'issuerUrl', 'jwksUrl', 'label', 'namespace',
  'aid', 'pubkey', 'expiresAt', 'manifest', 'type', 'ts', 'payload', 'sessionId', 'grants', 'id', '__proto__', 'constructor'];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.5) return ATOMS[Math.floor(rand() * ATOMS.length)];
  if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) obj[KEYS[Math.floor(rand() * KEYS.length)]!] = randomValue(rand, depth + 1);
  return obj;
}

/** A malformed or hostile body: random JSON, broken JSON, deep nesting, bad bytes, huge numbers. */
function randomBody(rand: () => number): string | Buffer {
  const kind = Math.floor(rand() * 8);
  switch (kind) {
    case 0: return '{"a":';
    case 1: return Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
    case 2: return `${'['.repeat(100)}${']'.repeat(100)}`;
    case 3: return '{"n":1e400,"jti":"\\ud800"}';
    case 4: return JSON.stringify({ events: Array.from({ length: 3 }, () => randomValue(rand, 0)) });
    default: return JSON.stringify(randomValue(rand, 0));
  }
}

const PATH_VALUES = ['not-a-uuid', randomUUID(), '%E0%A4%A', 'aid%3Apubkey%3Ax', 'x'.repeat(600), '..%2F..'];
const QUERIES = ['', '?limit=abc', '?limit=0', '?limit=1&limit=2', '?offset=-5', '?since=garbage', '?jti=nope', '?active=maybe', '?type=%00', '?namespace=' + 'n'.repeat(300)];

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false, WEBHOOK_ALLOW_PRIVATE_TARGETS: true }));
});
afterAll(async () => {
  await app.close();
});

describe('input fuzzing (issue #4)', () => {
  it('answers ≥ 2,000 malformed requests across every route without a 5xx', async () => {
    const rand = prng(20261124);
    const routes = app.routeTable
      .all()
      .filter((r) => !['HEAD', 'OPTIONS'].includes(r.method) && !r.url.includes('/aitp/handshake') && r.url !== '/api/events/stream');
    expect(routes.length).toBeGreaterThan(10);
    const failures: string[] = [];
    let sent = 0;
    while (sent < 2_400) {
      const route = routes[Math.floor(rand() * routes.length)]!;
      const url =
        route.url.replace(/:[A-Za-z]+/g, () => PATH_VALUES[Math.floor(rand() * PATH_VALUES.length)]!) +
        QUERIES[Math.floor(rand() * QUERIES.length)]!;
      const withBody = route.method !== 'GET' && route.method !== 'DELETE';
      const res = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { ...AUTH, ...(rand() < 0.2 ? { 'idempotency-key': rand() < 0.5 ? 'k\u0001' : `k-${sent}` } : {}) },
        ...(withBody ? { payload: randomBody(rand) } : {}),
      });
      sent++;
      if (res.statusCode >= 500) failures.push(`${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      else if (res.statusCode >= 400) expect(res.json(), `${route.method} ${url}`).toHaveProperty('code', expect.any(String));
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
