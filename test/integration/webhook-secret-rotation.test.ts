import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCHER_JOB } from '../../src/domains/webhooks/dispatcher.job.js';
import { SECRET_EXPIRY_JOB } from '../../src/domains/webhooks/secret-expiry.job.js';
import { AUTH, buildTestApp, TEST_API_KEY } from '../helpers/app.js';
import { dumpDatabase } from '../helpers/dump.js';
import { listEntry, signatureList, verifiesSignatureList, verifiesStarHeaders } from '../helpers/signatures.js';
import { enqueue, startReceiver, storedEvent, type ReceivedRequest, type Receiver } from '../helpers/webhook-receiver.js';

/** Real time plus an offset the tests move forward: the dispatcher and the expiry job read it. */
const clock = { offset: 0, now: () => Date.now() + clock.offset };

let app: FastifyInstance;
let secretsKey: string;
let receiver: Receiver;

beforeAll(async () => {
  const built = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_TIMEOUT_MS: 1000, WEBHOOK_SECRET_OVERLAP_S: 120 }, { clock });
  app = built.app;
  secretsKey = built.config.SECRETS_KEY!;
  receiver = await startReceiver();
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

interface Hook {
  id: string;
  secret: string;
  secretRotatedAt: string | null;
  previousSecretExpiresAt: string | null;
}

async function createHook(body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Hook> {
  const payload = { url: `${receiver.origin}/hook/${randomUUID()}`, events: ['tct.revoked'], ...body };
  const res = await app.inject({ method: 'POST', url: '/api/webhooks', headers: { ...AUTH, ...headers }, payload });
  expect(res.statusCode).toBe(201);
  return res.json<Hook>();
}

const rotate = (id: string, payload?: unknown) =>
  app.inject({ method: 'POST', url: `/api/webhooks/${id}/rotate-secret`, headers: AUTH, ...(payload === undefined ? {} : { payload: payload as object }) });

/** Which webhook a receiver path belongs to (each webhook gets its own path). */
const hookOfPath = new Map<string, string>();

/** One event, one dispatcher run: exactly one request for this webhook. */
async function deliverOne(hook: Hook, url: string): Promise<ReceivedRequest> {
  hookOfPath.set(new URL(url).pathname, hook.id);
  const before = receiver.received.length;
  await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
  await app.jobs.runOnce(DISPATCHER_JOB);
  const got = receiver.received.slice(before).filter((r) => hookOfPath.get(r.path) === hook.id);
  expect(got).toHaveLength(1);
  return got[0]!;
}

async function storedSecrets(id: string) {
  const result = await app.db.execute<{ sealed_secret: string; previous_sealed_secret: string | null; previous_secret_expires_at: Date | null }>(
    sql`SELECT sealed_secret, previous_sealed_secret, previous_secret_expires_at FROM webhooks WHERE id = ${id}`,
  );
  return result.rows[0]!;
}

async function urlOf(id: string): Promise<string> {
  return (await app.inject({ method: 'GET', url: `/api/webhooks/${id}`, headers: AUTH })).json<{ url: string }>().url;
}

async function deactivate(id: string): Promise<void> {
  await app.inject({ method: 'PATCH', url: `/api/webhooks/${id}`, headers: AUTH, payload: { active: false } });
}

describe('POST /api/webhooks/:id/rotate-secret', () => {
  it('overlap: the old secret keeps the ★ headers, the new one verifies through X-Aitp-Signatures; afterwards only the new signs and the old is erased', async () => {
    const hook = await createHook();
    const url = await urlOf(hook.id);
    const rotated = await rotate(hook.id, { overlapSeconds: 3600 });
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json<Hook & { id: string }>();
    expect(body.id).toBe(hook.id);
    expect(body.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(body.secret).not.toBe(hook.secret);
    expect(Date.parse(body.previousSecretExpiresAt!) - Date.parse(body.secretRotatedAt!)).toBe(3_600_000);
    const view = (await app.inject({ method: 'GET', url: `/api/webhooks/${hook.id}`, headers: AUTH })).json<Record<string, unknown>>();
    expect(view).toMatchObject({ secretRotatedAt: body.secretRotatedAt, previousSecretExpiresAt: body.previousSecretExpiresAt });
    expect(view).not.toHaveProperty('secret');

    const audit = await app.db.execute<{ details: unknown }>(sql`SELECT details FROM admin_audit_log WHERE action = 'webhook.secret.rotate' AND target_id = ${hook.id}`);
    expect(audit.rows.map((r) => r.details)).toEqual([{ overlapSeconds: 3600 }]);

    for (let i = 0; i < 3; i++) {
      const request = await deliverOne(hook, url);
      expect(verifiesStarHeaders(request, hook.secret)).toBe(true);
      expect(verifiesStarHeaders(request, body.secret)).toBe(false);
      expect(verifiesSignatureList(request, body.secret)).toBe(true);
      expect(signatureList(request)).toEqual([listEntry(request, body.secret), listEntry(request, hook.secret)]);
    }
    expect((await storedSecrets(hook.id)).previous_sealed_secret).not.toBeNull();

    clock.offset += 3_600_000;
    const after = await deliverOne(hook, url);
    expect(verifiesStarHeaders(after, body.secret)).toBe(true);
    expect(verifiesStarHeaders(after, hook.secret)).toBe(false);
    expect(signatureList(after)).toEqual([listEntry(after, body.secret)]);
    const ended = (await app.inject({ method: 'GET', url: `/api/webhooks/${hook.id}`, headers: AUTH })).json<Hook>();
    expect(ended.previousSecretExpiresAt).toBeNull();

    await app.jobs.runOnce(SECRET_EXPIRY_JOB);
    expect(await storedSecrets(hook.id)).toMatchObject({ previous_sealed_secret: null, previous_secret_expires_at: null });
    await deactivate(hook.id);
  });

  it('without a body uses WEBHOOK_SECRET_OVERLAP_S; 0 rotates at once; a rotation during an overlap erases the oldest secret', async () => {
    const hook = await createHook();
    const url = await urlOf(hook.id);
    const first = (await rotate(hook.id)).json<Hook>();
    expect(Date.parse(first.previousSecretExpiresAt!) - Date.parse(first.secretRotatedAt!)).toBe(120_000);

    const second = (await rotate(hook.id, { overlapSeconds: 60 })).json<Hook>();
    const during = await deliverOne(hook, url);
    expect(verifiesStarHeaders(during, first.secret)).toBe(true);
    expect(signatureList(during)).toEqual([listEntry(during, second.secret), listEntry(during, first.secret)]);
    expect(verifiesSignatureList(during, hook.secret)).toBe(false);

    const immediate = await rotate(hook.id, { overlapSeconds: 0 });
    expect(immediate.statusCode).toBe(200);
    const third = immediate.json<Hook>();
    expect(third.previousSecretExpiresAt).toBeNull();
    expect(await storedSecrets(hook.id)).toMatchObject({ previous_sealed_secret: null, previous_secret_expires_at: null });
    const now = await deliverOne(hook, url);
    expect(verifiesStarHeaders(now, third.secret)).toBe(true);
    expect(signatureList(now)).toEqual([listEntry(now, third.secret)]);
    await deactivate(hook.id);
  });

  it('PATCH {secret} stays an immediate rotation and ends a running overlap', async () => {
    const hook = await createHook();
    const url = await urlOf(hook.id);
    await rotate(hook.id, { overlapSeconds: 3600 });
    const patched = await app.inject({ method: 'PATCH', url: `/api/webhooks/${hook.id}`, headers: AUTH, payload: { secret: 'patched-secret' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ previousSecretExpiresAt: null, secretRotatedAt: expect.any(String) });
    expect(patched.json()).not.toHaveProperty('secret');
    const request = await deliverOne(hook, url);
    expect(verifiesStarHeaders(request, 'patched-secret')).toBe(true);
    expect(signatureList(request)).toEqual([listEntry(request, 'patched-secret')]);
    await deactivate(hook.id);
  });

  it.each([[-1], [604_801], [1.5], ['60'], [null]])('overlapSeconds %j → 400 BODY_INVALID', async (overlapSeconds) => {
    const hook = await createHook();
    const res = await rotate(hook.id, { overlapSeconds });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field: '/overlapSeconds' });
    expect(res.body).not.toMatch(/[0-9a-f]{64}/);
    expect((await storedSecrets(hook.id)).previous_sealed_secret).toBeNull();
    await deactivate(hook.id);
  });

  it('accepts the bounds 0 and 604800; an unknown or malformed id is 404', async () => {
    const hook = await createHook();
    expect((await rotate(hook.id, { overlapSeconds: 604_800 })).statusCode).toBe(200);
    expect((await rotate(hook.id, { overlapSeconds: 0 })).statusCode).toBe(200);
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const res = await rotate(id, { overlapSeconds: 10 });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    const anonymous = await app.inject({ method: 'POST', url: `/api/webhooks/${hook.id}/rotate-secret`, payload: {} });
    expect(anonymous.statusCode).toBe(401);
    await deactivate(hook.id);
  });
});

describe('sealed at rest', () => {
  it('a sealed value copied to another webhook row does not open: its deliveries wait, unsent, and re-seal reports it', async () => {
    const source = await createHook({ events: ['agent.none'] });
    const target = await createHook();
    const url = await urlOf(target.id);
    hookOfPath.set(new URL(url).pathname, target.id);
    await app.db.execute(sql`UPDATE webhooks SET sealed_secret = (SELECT sealed_secret FROM webhooks WHERE id = ${source.id}) WHERE id = ${target.id}`);
    const before = receiver.received.length;
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    await app.jobs.runOnce(DISPATCHER_JOB);
    expect(receiver.received.slice(before).filter((r) => hookOfPath.get(r.path) === target.id)).toHaveLength(0);
    const deliveries = (await app.inject({ method: 'GET', url: `/api/webhooks/${target.id}/deliveries`, headers: AUTH })).json<{ deliveries: Array<Record<string, unknown>> }>();
    expect(deliveries.deliveries[0]).toMatchObject({ status: 'pending', attempts: 0, error: `secret unavailable (key ${app.keyring.current.id})` });

    const reseal = await app.inject({ method: 'POST', url: '/api/admin/secrets/reseal', headers: AUTH });
    expect(reseal.statusCode).toBe(200);
    expect(reseal.json()).toMatchObject({ failed: 1, failedIds: [target.id] });

    // A new secret heals the row; the waiting delivery goes out signed with it.
    await app.inject({ method: 'PATCH', url: `/api/webhooks/${target.id}`, headers: AUTH, payload: { secret: 'healed-secret' } });
    clock.offset += 60_000;
    await app.jobs.runOnce(DISPATCHER_JOB);
    const healed = receiver.received.slice(before).filter((r) => hookOfPath.get(r.path) === target.id);
    expect(healed).toHaveLength(1);
    expect(verifiesStarHeaders(healed[0]!, 'healed-secret')).toBe(true);
    await deactivate(source.id);
    await deactivate(target.id);
  });

  it('a backup of the database holds no webhook secret, no API key and no SECRETS_KEY after create, rotate, patch and re-seal', async () => {
    const plain: string[] = [];
    const given = await createHook({ secret: 'given-secret-0123456789' }, { 'idempotency-key': randomUUID() });
    plain.push(given.secret);
    const generated = await createHook({}, { 'idempotency-key': randomUUID() });
    plain.push(generated.secret);
    plain.push((await rotate(generated.id, { overlapSeconds: 600 })).json<Hook>().secret);
    plain.push((await rotate(given.id, { overlapSeconds: 0 })).json<Hook>().secret);
    await app.inject({ method: 'PATCH', url: `/api/webhooks/${given.id}`, headers: AUTH, payload: { secret: 'patched-secret-0123456789' } });
    plain.push('patched-secret-0123456789');
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    await app.jobs.runOnce(DISPATCHER_JOB);
    const reseal = await app.inject({ method: 'POST', url: '/api/admin/secrets/reseal', headers: AUTH });
    expect(reseal.json()).toMatchObject({ failed: 0, failedIds: [] });
    expect(Object.keys(reseal.json()).sort()).toEqual(['alreadyCurrent', 'failed', 'failedIds', 'resealed', 'scanned']);

    const { text } = await dumpDatabase(app.config.DATABASE_URL!);
    expect(text).toContain(given.id);
    expect(text).toContain(`v1.${app.keyring.current.id}.`);
    for (const secret of plain) expect(text.includes(secret), 'a webhook secret').toBe(false);
    expect(text.includes(TEST_API_KEY), 'the API key').toBe(false);
    expect(text.toLowerCase().includes(secretsKey.toLowerCase()), 'SECRETS_KEY').toBe(false);
    expect(text.includes(Buffer.from(secretsKey, 'hex').toString('base64')), 'SECRETS_KEY as base64').toBe(false);

    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`aitp_control_plane_sealed_secrets\\{key_id="${app.keyring.current.id}"\\} [1-9]`));
  });
});
