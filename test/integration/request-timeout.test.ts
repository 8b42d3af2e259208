import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';
import { rawExchange } from '../helpers/raw-http.js';
import { openSse } from '../helpers/sse.js';

const REQUEST_TIMEOUT_MS = 1000;

const lines: Array<Record<string, unknown>> = [];
let app: FastifyInstance;
let port: number;
beforeAll(async () => {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'info', replica: 'r-test' }, stream);
  ({ app } = await buildTestApp({ REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS: 1000, SSE_HEARTBEAT_MS: 60_000, RATE_LIMIT_ENABLED: false }, { logger }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/** A POST whose body arrives one byte every 100 ms: 4 s in all, far past the timeout. */
function trickledUpload(authorization: string | undefined) {
  const head = `POST /api/events HTTP/1.1\r\nHost: x\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}Content-Length: 40\r\n\r\n`;
  return rawExchange(port, [head, ...'{"events":[]}'.padEnd(40, ' ').split('')], { delayMs: 100, timeoutMs: 6_000 });
}

describe('REQUEST_TIMEOUT_MS', () => {
  it('cuts a trickled upload with 408 while other clients and an SSE stream carry on', async () => {
    const sse = await openSse(`http://127.0.0.1:${port}/api/events/stream`, AUTH);
    expect(sse.status).toBe(200);
    const started = Date.now();
    const upload = trickledUpload(`Bearer ${TEST_API_KEY}`);
    let served = 0;
    while (Date.now() - started < 2_500) {
      const res = await fetch(`http://127.0.0.1:${port}/api/sessions`, { headers: AUTH });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      served++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const res = await upload;
    expect(res.closed).toBe(true);
    expect(res.status).toBe(408);
    expect(res.headers['connection']).toBe('close');
    expect(JSON.parse(res.body)).toEqual({ error: expect.any(String), code: 'REQUEST_TIMEOUT' });
    expect(served).toBeGreaterThan(5);

    // The stream opened before the upload is still open, well past REQUEST_TIMEOUT_MS.
    let ended = false;
    void sse.ended.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(ended).toBe(false);
    sse.close();

    const logged = lines.find((l) => l['msg'] === 'request completed' && l['statusCode'] === 408);
    expect(logged).toMatchObject({ code: 'REQUEST_TIMEOUT', method: 'POST', url: '/api/events' });
  });

  it('closes the connection of an upload answered 401 before its body arrived', async () => {
    const started = Date.now();
    const res = await trickledUpload(undefined);
    expect(res.status).toBe(401);
    expect(res.headers['connection']).toBe('close');
    expect(res.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('answers 408 to headers that never finish', async () => {
    const res = await rawExchange(port, ['GET /api/health HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n'], {
      delayMs: 500,
      timeoutMs: 6_000,
    });
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual({ error: expect.any(String), code: 'REQUEST_TIMEOUT' });
    expect(res.closed).toBe(true);
  });
});
