import { createHmac, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISPATCHER_JOB } from '../../src/domains/webhooks/dispatcher.job.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { makeManifest } from '../helpers/manifests.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

let app: FastifyInstance;
let receiver: Receiver;
let secret: string;

beforeAll(async () => {
  ({ app } = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true, RATE_LIMIT_ENABLED: false }));
  receiver = await startReceiver();
  const created = await app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: AUTH,
    payload: { url: `${receiver.origin}/hook`, events: ['agent.registered', 'tct.revoked', 'handshake.complete'] },
  });
  expect(created.statusCode).toBe(201);
  secret = created.json().secret;
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

function verify(body: string, headers: Record<string, string | string[] | undefined>): void {
  expect(headers['x-aitp-signature']).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const ts = String(headers['x-aitp-timestamp']);
  expect(headers['x-aitp-signature-256-t']).toBe(`sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
}

describe('webhooks through the real write paths (issue #8)', () => {
  it('delivers a registration, a revocation and a handshake.complete once each, signed; nothing unsubscribed', async () => {
    const manifest = makeManifest();
    const enroll = await app.inject({ method: 'POST', url: '/api/registry/enroll', payload: manifest.body });
    expect(enroll.statusCode).toBe(200);
    const register = await app.inject({
      method: 'POST',
      url: '/api/registry/agents',
      headers: { authorization: `Bearer ${enroll.json().token}` },
      payload: manifest.body,
    });
    expect(register.statusCode).toBe(201);
    const jti = randomUUID();
    expect((await app.inject({ method: 'POST', url: '/api/revocation/entries', headers: AUTH, payload: { jti, reason: 'test' } })).statusCode).toBe(201);
    const session = `s-${randomUUID()}`;
    const ingest = await app.inject({
      method: 'POST',
      url: '/api/events',
      headers: AUTH,
      payload: [
        { type: 'handshake.completed', session_id: session, aid_a: manifest.aid },
        { type: 'capability.invoked', payload: { capability: 'x' } },
        { type: 'agent.registered', aidA: manifest.aid },
      ],
    });
    expect(ingest.json()).toMatchObject({ inserted: 3 });

    for (let i = 0; i < 5; i++) await app.jobs.runOnce(DISPATCHER_JOB);
    const types = receiver.received.map((r) => r.headers['x-aitp-event']);
    expect(types.sort()).toEqual(['agent.registered', 'handshake.complete', 'tct.revoked']);
    for (const request of receiver.received) {
      verify(request.body, request.headers);
      const body = JSON.parse(request.body) as { deliveryId: string; eventType: string; payload: { type: string; source: string } };
      expect(request.headers['x-aitp-delivery']).toBe(body.deliveryId);
      expect(body.eventType).toBe(request.headers['x-aitp-event']);
    }
    const registered = JSON.parse(receiver.received.find((r) => r.headers['x-aitp-event'] === 'agent.registered')!.body);
    expect(registered.payload).toMatchObject({ type: 'agent.registered', aidA: manifest.aid, source: 'cp' });
    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toMatch(/aitp_control_plane_webhook_deliveries_enqueued_total 3/);

    const agent = await app.inject({ method: 'GET', url: `/api/registry/agents/${encodeURIComponent(manifest.aid)}` });
    expect(agent.json().lastSeenAt).not.toBeNull();
  });
});
