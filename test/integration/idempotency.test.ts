import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/domains/admin-audit/repository.js';
import { TEST_API_KEY, buildTestApp } from '../helpers/app.js';

const OTHER_KEY = 'other-api-key-0123456789abcdef';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let app: FastifyInstance;

/** A scoped POST whose side effect (one admin audit row per execution) the tests can count. */
async function registerSideEffectRoute(a: FastifyInstance): Promise<void> {
  a.post(
    '/test/effect',
    {
      config: { idempotency: { scope: 'trust-anchors.create' } },
      schema: { body: Type.Object({ tag: Type.String(), delayMs: Type.Optional(Type.Integer()), fail: Type.Optional(Type.Boolean()) }) },
    },
    async (request, reply) => {
      const body = request.body as { tag: string; delayMs?: number; fail?: boolean };
      if (body.delayMs) await sleep(body.delayMs);
      if (body.fail) return reply.status(409).send({ error: 'nope', code: 'ALREADY_EXISTS' });
      await recordAudit(a.db, { action: 'test.effect', actorId: request.principal.fingerprint, targetId: body.tag, details: {}, requestId: request.id });
      return reply.status(201).send({ tag: body.tag, at: Date.now() });
    },
  );
}

async function effects(tag: string): Promise<number> {
  const result = await app.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM admin_audit_log WHERE target_id = ${tag}`);
  return Number(result.rows[0]!.n);
}

const post = (body: unknown, key: string | undefined, apiKey = TEST_API_KEY, raw?: string) =>
  app.inject({
    method: 'POST',
    url: '/test/effect',
    headers: { authorization: `Bearer ${apiKey}`, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: raw ?? JSON.stringify(body),
  });

beforeAll(async () => {
  ({ app } = await buildTestApp({ API_KEYS: [TEST_API_KEY, OTHER_KEY] }, { beforeReady: registerSideEffectRoute }));
});
afterAll(async () => {
  await app.close();
});

describe('Idempotency-Key (API.md §0.4)', () => {
  it('executes normally without the header', async () => {
    const tag = randomUUID();
    expect((await post({ tag }, undefined)).statusCode).toBe(201);
    expect((await post({ tag }, undefined)).statusCode).toBe(201);
    expect(await effects(tag)).toBe(2);
  });

  it('replays the stored status and body, with Idempotency-Replayed, and no second side effect', async () => {
    const tag = randomUUID();
    const key = `k-${tag}`;
    const first = await post({ tag }, key);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    // Re-serialized but JCS-equal JSON is the same request.
    const again = await post(undefined, key, TEST_API_KEY, `{ "tag" : "${tag}" }`);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(await effects(tag)).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with a different body', async () => {
    const key = `k-${randomUUID()}`;
    expect((await post({ tag: randomUUID() }, key)).statusCode).toBe(201);
    const reused = await post({ tag: randomUUID() }, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS to a concurrent duplicate, with one side effect', async () => {
    const tag = randomUUID();
    const key = `k-${tag}`;
    const [a, b] = await Promise.all([post({ tag, delayMs: 400 }, key), sleep(100).then(() => post({ tag, delayMs: 400 }, key))]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    expect((a.statusCode === 409 ? a : b).json()).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(await effects(tag)).toBe(1);
  });

  it("keeps another caller's identical key separate", async () => {
    const tag = randomUUID();
    const key = `k-${tag}`;
    expect((await post({ tag }, key)).statusCode).toBe(201);
    const other = await post({ tag }, key, OTHER_KEY);
    expect(other.statusCode).toBe(201);
    expect(other.headers['idempotency-replayed']).toBeUndefined();
    expect(await effects(tag)).toBe(2);
  });

  it('releases the record after a non-2xx so a retry executes again', async () => {
    const tag = randomUUID();
    const key = `k-${tag}`;
    expect((await post({ tag, fail: true }, key)).statusCode).toBe(409);
    const retry = await post({ tag, fail: true }, key);
    expect(retry.statusCode).toBe(409);
    expect(retry.headers['idempotency-replayed']).toBeUndefined();
  });

  it('takes over an in-progress record whose lock expired (owner died)', async () => {
    const tag = randomUUID();
    const key = `k-${tag}`;
    await app.db.execute(sql`
      INSERT INTO idempotency_keys (scope, caller, key, request_hash, state, locked_until)
      VALUES ('trust-anchors.create', 'apikey:x', ${key}, 'h', 'in_progress', now() - interval '1 second')`);
    // A different caller's dead record does not block ours; our own dead record is taken over.
    expect((await post({ tag }, key)).statusCode).toBe(201);
    await app.db.execute(sql`UPDATE idempotency_keys SET state = 'in_progress', locked_until = now() - interval '1 second' WHERE key = ${key} AND caller <> 'apikey:x'`);
    const taken = await post({ tag }, key);
    expect(taken.statusCode).toBe(201);
    expect(taken.headers['idempotency-replayed']).toBeUndefined();
    expect(await effects(tag)).toBe(2);
  });

  it.each([
    ['empty', '   '],
    ['too long', 'x'.repeat(256)],
    ['control character', 'abc\u0001def'],
    ['DEL', 'abc\u007f'],
  ])('rejects a %s key with 400 IDEMPOTENCY_KEY_INVALID', async (_label, key) => {
    const res = await post({ tag: randomUUID() }, key);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
  });

  it('counts replays and conflicts in metrics', async () => {
    const text = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(text).toMatch(/aitp_control_plane_idempotency_replays_total\{scope="trust-anchors.create"\} [1-9]/);
    expect(text).toMatch(/aitp_control_plane_idempotency_conflicts_total\{kind="reused"\} [1-9]/);
    expect(text).toMatch(/aitp_control_plane_idempotency_conflicts_total\{kind="in_progress"\} [1-9]/);
  });
});
