import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';

function captureLogger(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level, replica: 'r-test' }, stream), lines };
}

describe('logging (OPERATIONS.md §16)', () => {
  it('writes one access line per request with the contract fields and the base fields', async () => {
    const { logger, lines } = captureLogger();
    const { app } = await buildTestApp({}, { logger });
    await app.inject({ method: 'GET', url: '/api/health', headers: { 'x-request-id': 'req-1' } });
    await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'req-2' } });
    const access = lines.filter((l) => l['msg'] === 'request completed');
    const probe = access.find((l) => l['reqId'] === 'req-1');
    expect(probe).toMatchObject({ level: 'debug', route: '/api/health', method: 'GET', statusCode: 200, service: 'aitp-control-plane', replica: 'r-test' });
    expect(typeof probe?.['time']).toBe('string');
    const miss = access.find((l) => l['reqId'] === 'req-2');
    expect(miss).toMatchObject({ level: 'info', route: 'unmatched', url: '/nope', statusCode: 404, clientIp: '127.0.0.1' });
    expect(miss).toHaveProperty('durationMs');
    expect(miss).toHaveProperty('actor');
    await app.close();
  });

  it('never logs the authorization header, the API key or the seed', async () => {
    const { logger, lines } = captureLogger('trace');
    const { app, config } = await buildTestApp({}, { logger });
    await app.inject({ method: 'GET', url: '/api/metrics', headers: AUTH });
    await app.inject({ method: 'GET', url: '/nope', headers: AUTH });
    app.log.info({ req: { headers: { authorization: 'Bearer x' } }, cfg: { API_KEYS: [TEST_API_KEY], CP_AID_SEED_HEX: config.CP_AID_SEED_HEX } }, 'probe');
    await app.close();
    const text = JSON.stringify(lines);
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).not.toContain(config.CP_AID_SEED_HEX);
    expect(text).toContain('[Redacted]');
  });

  it('logs a 500 with the error server-side while the client sees no internals', async () => {
    const { logger, lines } = captureLogger();
    const { app } = await buildTestApp({}, {
      logger,
      beforeReady: async (a) => {
        a.get('/test/boom', { config: { auth: 'public' } }, async () => {
          throw new Error('driver said: relation "x" does not exist');
        });
      },
    });
    const res = await app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.body).not.toContain('relation');
    const logged = lines.find((l) => l['msg'] === 'request failed');
    expect(JSON.stringify(logged)).toContain('relation');
    await app.close();
  });
});
