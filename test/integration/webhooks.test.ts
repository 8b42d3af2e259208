import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCHER_JOB } from '../../src/domains/webhooks/dispatcher.job.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { enqueue, startReceiver, storedEvent, type Receiver } from '../helpers/webhook-receiver.js';

let app: FastifyInstance;
let receiver: Receiver;

beforeAll(async () => {
  ({ app } = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true }));
  receiver = await startReceiver();
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function createHook(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await call('POST', '/api/webhooks', { url: `${receiver.origin}/hook/${randomUUID()}`, ...body }, headers);
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; url: string; secret: string; events: string[]; active: boolean; createdAt: string; updatedAt: string }>();
}

async function auditRows(targetId: string) {
  const result = await app.db.execute<{ action: string; details: Record<string, unknown>; actor_id: string }>(
    sql`SELECT action, details, actor_id FROM admin_audit_log WHERE target_id = ${targetId} ORDER BY created_at, id`,
  );
  return result.rows;
}

describe('webhook CRUD (API.md §7.1–§7.5)', () => {
  it('creates with defaults and shows the secret only once', async () => {
    const hook = await createHook();
    expect(hook).toMatchObject({ events: [], active: true });
    expect(hook.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(hook).sort()).toEqual(['active', 'createdAt', 'events', 'id', 'previousSecretExpiresAt', 'secret', 'secretRotatedAt', 'updatedAt', 'url']);

    const got = await call('GET', `/api/webhooks/${hook.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({
      id: hook.id,
      url: hook.url,
      events: [],
      active: true,
      createdAt: hook.createdAt,
      updatedAt: hook.updatedAt,
      secretRotatedAt: null,
      previousSecretExpiresAt: null,
    });
    const list = await call('GET', '/api/webhooks?limit=1000');
    expect(list.body).not.toContain(hook.secret);
    expect(list.json().webhooks.find((w: { id: string }) => w.id === hook.id)).not.toHaveProperty('secret');

    const audit = await auditRows(hook.id);
    expect(audit).toEqual([{ action: 'webhook.create', details: { url: hook.url, events: [], active: true }, actor_id: expect.stringMatching(/^apikey:/) }]);
    expect(JSON.stringify(audit)).not.toContain(hook.secret);
  });

  it('takes a given secret, events and active flag', async () => {
    const hook = await createHook({ secret: 'my-secret', events: ['tct.revoked', 'handshake.completed'], active: false });
    expect(hook).toMatchObject({ secret: 'my-secret', events: ['tct.revoked', 'handshake.completed'], active: false });
  });

  it.each([
    [{ events: Array.from({ length: 51 }, (_, i) => `t${i}`) }, '/events'],
    [{ events: [''] }, '/events/0'],
    [{ events: ['x'.repeat(129)] }, '/events/0'],
    [{ secret: '' }, '/secret'],
    [{ secret: 's'.repeat(256) }, '/secret'],
    [{ active: 'yes' }, '/active'],
    [{ url: 42 }, '/url'],
  ])('rejects %j with BODY_INVALID', async (body, field) => {
    const res = await call('POST', '/api/webhooks', { url: `${receiver.origin}/x`, ...body });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field });
  });

  it('rejects a missing url with BODY_INVALID and a guarded one with URL_NOT_ALLOWED', async () => {
    expect((await call('POST', '/api/webhooks', {})).json()).toMatchObject({ code: 'BODY_INVALID', field: '/url' });
    for (const url of ['ftp://127.0.0.1/x', 'https://user:pw@127.0.0.1/x', 'not a url', `https://x.example/${'a'.repeat(2048)}`]) {
      const res = await call('POST', '/api/webhooks', { url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('URL_NOT_ALLOWED');
    }
    const hook = await createHook();
    const patched = await call('PATCH', `/api/webhooks/${hook.id}`, { url: 'gopher://127.0.0.1/' });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().code).toBe('URL_NOT_ALLOWED');
  });

  it('PATCH and PUT are the same partial update; {} changes nothing; the secret is never audited', async () => {
    const hook = await createHook({ events: ['tct.revoked'] });
    const empty = await call('PATCH', `/api/webhooks/${hook.id}`, {});
    expect(empty.statusCode).toBe(200);
    expect(empty.json().updatedAt).toBe(hook.updatedAt);

    const put = await call('PUT', `/api/webhooks/${hook.id}`, { active: false, secret: 'rotated-secret' });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ id: hook.id, url: hook.url, events: ['tct.revoked'], active: false });
    expect(put.json()).not.toHaveProperty('secret');
    expect(put.json().updatedAt > hook.updatedAt).toBe(true);

    const url = `${receiver.origin}/moved`;
    const patch = await call('PATCH', `/api/webhooks/${hook.id}`, { url, events: [] });
    expect(patch.json()).toMatchObject({ url, events: [], active: false });

    const audit = await auditRows(hook.id);
    expect(audit.map((row) => [row.action, row.details])).toEqual([
      ['webhook.create', { url: hook.url, events: ['tct.revoked'], active: true }],
      ['webhook.update', { active: false, secretRotated: true }],
      ['webhook.update', { url, events: [] }],
    ]);
    expect(JSON.stringify(audit)).not.toContain('rotated-secret');
    expect(put.json().secretRotatedAt).toEqual(expect.any(String));
    const stored = await app.db.execute<{ sealed_secret: string }>(sql`SELECT sealed_secret FROM webhooks WHERE id = ${hook.id}`);
    expect(stored.rows[0]!.sealed_secret).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(stored.rows[0]!.sealed_secret).not.toContain('rotated-secret');
    expect(app.keyring.open(stored.rows[0]!.sealed_secret, `webhook:${hook.id}`)).toEqual({ ok: true, value: 'rotated-secret' });
  });

  it('answers 404 for unknown and non-UUID ids', async () => {
    const unknown = randomUUID();
    for (const id of [unknown, 'not-a-uuid', `${unknown}0`]) {
      for (const [method, url, body] of [
        ['GET', `/api/webhooks/${id}`],
        ['PATCH', `/api/webhooks/${id}`, {}],
        ['PUT', `/api/webhooks/${id}`, { active: true }],
        ['DELETE', `/api/webhooks/${id}`],
        ['GET', `/api/webhooks/${id}/circuit-breaker`],
        ['POST', `/api/webhooks/${id}/circuit-breaker/reset`],
        ['GET', `/api/webhooks/${id}/deliveries`],
        ['GET', `/api/webhooks/${id}/deliveries/${randomUUID()}`],
        ['POST', `/api/webhooks/${id}/deliveries/${randomUUID()}/redeliver`],
      ] as const) {
        const res = await call(method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(res.json().code).toBe('NOT_FOUND');
      }
    }
  });

  it('accepts an upper-case UUID and answers lower-case', async () => {
    const hook = await createHook();
    const res = await call('GET', `/api/webhooks/${hook.id.toUpperCase()}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(hook.id);
  });

  it('deletes with its deliveries; a second delete is 404', async () => {
    const hook = await createHook();
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    const count = async () =>
      Number((await app.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ${hook.id}`)).rows[0]!.n);
    expect(await count()).toBe(1);
    const res = await call('DELETE', `/api/webhooks/${hook.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: hook.id, deleted: true });
    expect(await count()).toBe(0);
    expect((await call('DELETE', `/api/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect((await auditRows(hook.id)).at(-1)).toMatchObject({ action: 'webhook.delete', details: { url: hook.url } });
  });

  it('lists newest first with the active filter and pagination', async () => {
    const a = await createHook({ active: false });
    const b = await createHook({ active: false });
    const first = await call('GET', '/api/webhooks?active=false&limit=1');
    expect(first.json()).toMatchObject({ count: 1, limit: 1, offset: 0, hasMore: true });
    expect(first.json().webhooks[0].id).toBe(b.id);
    const second = await call('GET', '/api/webhooks?active=0&limit=1&offset=1');
    expect(second.json().webhooks[0].id).toBe(a.id);
    const active = await call('GET', '/api/webhooks?active=true&limit=1000');
    expect(active.json().webhooks.every((w: { active: boolean }) => w.active)).toBe(true);
    expect((await call('GET', '/api/webhooks?active=maybe')).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'active' });
    expect((await call('GET', '/api/webhooks?limit=0')).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'limit' });
  });
});

describe('idempotent create (API.md §0.4 rule 7)', () => {
  it('replays with the secret re-read from the row, never stored, omitted once deleted', async () => {
    const key = randomUUID();
    const body = { url: `${receiver.origin}/idem/${key}` };
    const first = await call('POST', '/api/webhooks', body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const replay = await call('POST', '/api/webhooks', body, { 'idempotency-key': key });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());

    const stored = await app.db.execute<{ response_body: unknown }>(sql`SELECT response_body FROM idempotency_keys WHERE key = ${key}`);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]!.response_body).not.toHaveProperty('secret');
    expect(JSON.stringify(stored.rows[0])).not.toContain(first.json().secret);
    const rows = await app.db.execute(sql`SELECT id FROM webhooks WHERE url = ${body.url}`);
    expect(rows.rows).toHaveLength(1);

    await call('DELETE', `/api/webhooks/${first.json().id}`);
    const afterDelete = await call('POST', '/api/webhooks', body, { 'idempotency-key': key });
    expect(afterDelete.statusCode).toBe(201);
    expect(afterDelete.json()).not.toHaveProperty('secret');
    expect(afterDelete.json().id).toBe(first.json().id);
  });
});

describe('delivery history and redelivery (API.md §7.8–§7.10)', () => {
  it('lists without bodies, filters by status and (alias-aware) event type, shows one with its body', async () => {
    const hook = await createHook();
    const other = await createHook();
    const complete = storedEvent({ type: 'handshake.completed', sessionId: 's-1' });
    await enqueue(app, [complete, storedEvent({ type: 'tct.revoked', producer: 'cp', source: 'cp' })]);

    const list = await call('GET', `/api/webhooks/${hook.id}/deliveries`);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ count: 2, limit: 100, offset: 0, hasMore: false });
    const items = list.json().deliveries as Array<Record<string, unknown>>;
    expect(items.every((d) => !('body' in d) && d['status'] === 'pending' && d['attempts'] === 0)).toBe(true);

    const filtered = await call('GET', `/api/webhooks/${hook.id}/deliveries?event_type=handshake.completed&eventType=tct.revoked`);
    expect(filtered.json().deliveries).toHaveLength(1);
    const delivery = filtered.json().deliveries[0];
    expect(delivery).toMatchObject({ webhookId: hook.id, eventId: complete.id, eventType: 'handshake.complete', status: 'pending', statusCode: null, error: null, redeliveryOf: null });
    expect((await call('GET', `/api/webhooks/${hook.id}/deliveries?status=delivered`)).json().count).toBe(0);
    expect((await call('GET', `/api/webhooks/${hook.id}/deliveries?status=bogus`)).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'status' });

    const detail = await call('GET', `/api/webhooks/${hook.id}/deliveries/${delivery.id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toEqual({ ...delivery, body: expect.any(String) });
    const body = JSON.parse(detail.json().body);
    expect(body).toEqual({
      deliveryId: delivery.id,
      eventType: 'handshake.complete',
      payload: { id: complete.id, type: 'handshake.completed', ts: '2026-05-25T12:00:01.000Z', sessionId: 's-1', payload: {}, source: 'playground' },
      enqueuedAt: delivery.createdAt,
    });
    expect((await call('GET', `/api/webhooks/${other.id}/deliveries/${delivery.id}`)).statusCode).toBe(404);
  });

  it('redelivers: pending → rescheduled in place, finished → a new row; 409 when inactive', async () => {
    const hook = await createHook({ events: ['tct.revoked'] });
    await enqueue(app, [storedEvent({ type: 'tct.revoked', payload: { jti: randomUUID(), reason: null } })]);
    const [original] = (await call('GET', `/api/webhooks/${hook.id}/deliveries`)).json().deliveries;

    const again = await call('POST', `/api/webhooks/${hook.id}/deliveries/${original.id}/redeliver`);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ id: original.id, status: 'pending', attempts: 0, redeliveryOf: null });

    await app.jobs.runOnce(DISPATCHER_JOB);
    const delivered = (await call('GET', `/api/webhooks/${hook.id}/deliveries/${original.id}`)).json();
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, statusCode: 200 });

    const key = randomUUID();
    const fresh = await call('POST', `/api/webhooks/${hook.id}/deliveries/${original.id}/redeliver`, undefined, { 'idempotency-key': key });
    expect(fresh.statusCode).toBe(202);
    const copy = fresh.json();
    expect(copy).toMatchObject({ webhookId: hook.id, eventId: original.eventId, eventType: 'tct.revoked', status: 'pending', attempts: 0, redeliveryOf: original.id });
    expect(copy.id).not.toBe(original.id);
    const replayed = await call('POST', `/api/webhooks/${hook.id}/deliveries/${original.id}/redeliver`, undefined, { 'idempotency-key': key });
    expect(replayed.headers['idempotency-replayed']).toBe('true');
    expect(replayed.json().id).toBe(copy.id);
    expect((await call('GET', `/api/webhooks/${hook.id}/deliveries`)).json().count).toBe(2);

    const copyBody = JSON.parse((await call('GET', `/api/webhooks/${hook.id}/deliveries/${copy.id}`)).json().body);
    expect(copyBody).toEqual({ ...JSON.parse(delivered.body), deliveryId: copy.id, enqueuedAt: copy.createdAt });

    const audit = await auditRows(original.id);
    expect(audit.map((row) => row.details)).toEqual([
      { webhookId: hook.id, newDeliveryId: null },
      { webhookId: hook.id, newDeliveryId: copy.id },
    ]);
    expect(audit.every((row) => row.action === 'webhook.delivery.redeliver')).toBe(true);

    await call('PATCH', `/api/webhooks/${hook.id}`, { active: false });
    const inactive = await call('POST', `/api/webhooks/${hook.id}/deliveries/${original.id}/redeliver`);
    expect(inactive.statusCode).toBe(409);
    expect(inactive.json().code).toBe('WEBHOOK_INACTIVE');
    expect((await call('POST', `/api/webhooks/${hook.id}/deliveries/${randomUUID()}/redeliver`)).statusCode).toBe(404);
  });
});
