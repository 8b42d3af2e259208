import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

const ingest = (payload: string) => app.inject({ method: 'POST', url: '/api/events', headers: { ...AUTH, 'content-type': 'application/json' }, payload });

// The body plugin replaces Fastify's JSON parser; Fastify's prototype-poisoning guard must survive.
describe('prototype members in JSON bodies', () => {
  it.each([
    ['__proto__', '{"events":[{"type":"t","payload":{"__proto__":{"polluted":true}}}]}'],
    ['__proto__ escaped', '{"events":[{"type":"t","payload":{"\\u005f_proto__":{"polluted":true}}}]}'],
    ['constructor.prototype', '{"events":[{"type":"t","payload":{"constructor":{"prototype":{"polluted":true}}}}]}'],
  ])('refuses %s with 400 BODY_INVALID', async (_name, payload) => {
    const res = await ingest(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BODY_INVALID' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts a plain member named constructor', async () => {
    const res = await ingest('{"events":[{"type":"t","payload":{"constructor":"x"}}]}');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ingested: 1 });
  });
});
