import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, buildTestApp } from '../helpers/app.js';
import { rawExchange } from '../helpers/raw-http.js';

// Ruling 28: what Node's HTTP parser rejects before any route runs still answers the envelope
// with Connection: close, and is counted in the HTTP metrics. Every case goes over a raw socket.

const AUTH_LINE = `Authorization: Bearer ${TEST_API_KEY}\r\n`;

const CASES: Array<{ name: string; request: string; status: number; code: string; halfClose?: boolean }> = [
  {
    name: 'malformed chunked body',
    request: `POST /api/events HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'Content-Length with Transfer-Encoding',
    request: `POST /api/events HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'negative Content-Length',
    request: `POST /api/events HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Content-Length: -1\r\n\r\n{}`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'body shorter than Content-Length, then EOF',
    request: `POST /api/events HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Content-Length: 100\r\n\r\n{"events":`,
    status: 400,
    code: 'BAD_REQUEST',
    halfClose: true,
  },
  {
    name: 'control character in Idempotency-Key',
    request: `POST /api/webhooks HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Idempotency-Key: a\x01b\r\nContent-Length: 2\r\n\r\n{}`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'NUL in X-Aitp-Namespace',
    request: `POST /api/registry/enroll HTTP/1.1\r\nHost: x\r\nX-Aitp-Namespace: a\x00b\r\nContent-Length: 2\r\n\r\n{}`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'control character in Last-Event-ID',
    request: `GET /api/events/stream HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Last-Event-ID: 1\x7f\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  { name: 'unknown method', request: 'FROB /api/health HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  { name: 'lower-case method', request: 'get /api/health HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  { name: 'HTTP/2 preface', request: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  { name: 'invalid byte in the request line', request: 'GET /api/he\x01alth HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  {
    name: 'oversized headers',
    request: `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  { name: 'bogus Expect', request: 'POST /api/events HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 2\r\n\r\n{}', status: 417, code: 'EXPECTATION_FAILED' },
  { name: 'CONNECT', request: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
];

let app: FastifyInstance;
let port: number;
beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

describe('transport-level rejections (Ruling 28)', () => {
  for (const { name, request, status, code, halfClose } of CASES) {
    it(`${name} → ${status} ${code}, Connection: close`, async () => {
      const res = await rawExchange(port, [Buffer.from(request, 'latin1')], { halfClose });
      expect(res.status, res.text.slice(0, 200)).toBe(status);
      expect(res.headers['connection']).toBe('close');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-request-id']).toMatch(/^cp-/);
      expect(JSON.parse(res.body)).toEqual({ error: expect.any(String), code });
      expect(res.closed).toBe(true);
    });
  }

  it('counts every rejection in the HTTP metrics', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/api/metrics' });
    const count = (status: number) => {
      const lines = metrics.body.split('\n').filter((l) => l.startsWith('aitp_control_plane_http_requests_total{') && l.includes('route="unmatched"') && l.includes(`status_code="${status}"`));
      return lines.reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
    };
    for (const status of [400, 417, 431]) {
      expect(count(status)).toBeGreaterThanOrEqual(CASES.filter((c) => c.status === status).length);
    }
  });
});
