import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';
import { openSse } from '../helpers/sse.js';

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

  it('writes the access line of an SSE stream when it ends, with bytes and close reason', async () => {
    const { logger, lines } = captureLogger('info');
    const { app } = await buildTestApp({}, { logger });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const sse = await openSse(`http://127.0.0.1:${port}/api/events/stream?backlog=0`, { ...AUTH, 'x-request-id': 'sse-1' });
    await sse.waitFor((c) => c.text().length > 0);
    sse.close();
    const deadline = Date.now() + 5_000;
    const streamLine = () => lines.find((l) => l['msg'] === 'request completed' && l['reqId'] === 'sse-1');
    while (streamLine() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await app.close();
    expect(streamLine()).toMatchObject({ level: 'info', method: 'GET', route: '/api/events/stream', statusCode: 200, reason: 'client', clientIp: '127.0.0.1' });
    expect(streamLine()?.['bytes']).toBeGreaterThanOrEqual(sse.text().length);
    expect(streamLine()?.['durationMs']).toEqual(expect.any(Number));
  });
});
