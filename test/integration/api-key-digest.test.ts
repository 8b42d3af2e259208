import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/plugins/auth.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

// API_KEYS entries may be `sha256:<64 hex>`, the SHA-256 of a raw key: the caller presents the
// raw key and gets the same fingerprint, so audit actors and idempotency records carry over
// when an operator replaces a raw entry by its digest.
const KEY_A = 'digest-configured-key-0123456789';
const KEY_B = 'raw-configured-key-0123456789ab';
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const DIGEST_A = `sha256:${sha256Hex(KEY_A)}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const whoami = async (a: FastifyInstance) => void a.get('/test/whoami', async (request) => ({ actor: request.principal.fingerprint }));

let databaseUrl: string;
let rawApp: FastifyInstance;
let digestApp: FastifyInstance;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  // Two processes on one database: before and after the switch from the raw entry to its digest.
  ({ app: rawApp } = await buildTestApp({ DATABASE_URL: databaseUrl, API_KEYS: [KEY_A] }, { beforeReady: whoami }));
  ({ app: digestApp } = await buildTestApp({ DATABASE_URL: databaseUrl, API_KEYS: [DIGEST_A, KEY_B] }, { beforeReady: whoami }));
});
afterAll(async () => {
  await rawApp.close();
  await digestApp.close();
});

describe('sha256: API keys', () => {
  it('authenticate the raw key with the fingerprint the raw entry gives, next to a raw entry', async () => {
    const viaDigest = await digestApp.inject({ method: 'GET', url: '/test/whoami', headers: bearer(KEY_A) });
    const viaRaw = await rawApp.inject({ method: 'GET', url: '/test/whoami', headers: bearer(KEY_A) });
    expect(viaDigest.statusCode).toBe(200);
    expect(viaDigest.json()).toEqual({ actor: `apikey:${sha256Hex(KEY_A).slice(0, 16)}` });
    expect(viaDigest.json()).toEqual(viaRaw.json());
    const other = await digestApp.inject({ method: 'GET', url: '/test/whoami', headers: { authorization: KEY_B } });
    expect(other.json()).toEqual({ actor: fingerprintOf(KEY_B) });
  });

  it.each([
    ['a wrong key', 'wrong-key-0123456789abcdef'],
    ['the configured entry itself', DIGEST_A],
    ['the bare digest', sha256Hex(KEY_A)],
    ['the raw key with a trailing newline digested', `sha256:${sha256Hex(`${KEY_A}\n`)}`],
  ])('answer 401 INVALID_API_KEY to %s', async (_label, presented) => {
    const res = await digestApp.inject({ method: 'GET', url: '/test/whoami', headers: bearer(presented) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'INVALID_API_KEY' });
  });

  it('keep the admin-audit actor and the idempotency caller across the switch', async () => {
    const body = JSON.stringify({ issuerUrl: `https://idp-${randomUUID()}.example.com` });
    const headers = { ...bearer(KEY_A), 'idempotency-key': `switch-${randomUUID()}` };
    const created = await rawApp.inject({ method: 'POST', url: '/api/trust-anchors', headers, payload: body });
    expect(created.statusCode).toBe(201);
    const replayed = await digestApp.inject({ method: 'POST', url: '/api/trust-anchors', headers, payload: body });
    expect(replayed.statusCode).toBe(201);
    expect(replayed.headers['idempotency-replayed']).toBe('true');
    expect(replayed.json()).toEqual(created.json());

    const id = created.json<{ id: string }>().id;
    const patched = await digestApp.inject({ method: 'PATCH', url: `/api/trust-anchors/${id}`, headers: bearer(KEY_A), payload: JSON.stringify({ label: 'after' }) });
    expect(patched.statusCode).toBe(200);
    const audit = await digestApp.inject({ method: 'GET', url: `/api/audit?target_id=${id}`, headers: bearer(KEY_B) });
    const actors = audit.json<{ entries: Array<{ action: string; actorId: string }> }>().entries.map((e) => [e.action, e.actorId]);
    expect(actors.sort()).toEqual([['trust-anchor.create', fingerprintOf(KEY_A)], ['trust-anchor.update', fingerprintOf(KEY_A)]]);
  });
});

describe('a sha256: METRICS_TOKEN', () => {
  it('lets the raw token scrape, and not the digest', async () => {
    const token = 'metrics-token-0123456789';
    const { app } = await buildTestApp({ DATABASE_URL: databaseUrl, METRICS_TOKEN: `sha256:${sha256Hex(token)}` });
    expect((await app.inject({ method: 'GET', url: '/api/metrics', headers: bearer(token) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/metrics', headers: bearer(`sha256:${sha256Hex(token)}`) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/metrics' })).statusCode).toBe(401);
    await app.close();
  });
});
