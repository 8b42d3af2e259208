import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { trace, type Span } from '@opentelemetry/api';
import fp from 'fastify-plugin';

// Contract README §Request id.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

// One randomBytes call per 512 ids instead of a syscall per request.
let pool = Buffer.alloc(0);
let offset = 0;

function randomBase36(length: number): string {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += BASE36[pool[offset++]! % 36];
  return out;
}

export function newRequestId(): string {
  return `cp-${Date.now().toString(36)}-${randomBase36(8)}`;
}

/** Fastify `genReqId`: reuse a safe incoming x-request-id, else mint one. */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
}

/** Echoes the request id on every response, including errors, 404/405, 429 and preflights. */
export default fp(
  async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      // The request span of @fastify/otel when tracing is on (OPERATIONS.md §17), else whatever is active.
      const otel = (request as { opentelemetry?: () => { span?: Span } }).opentelemetry?.();
      (otel?.span ?? trace.getActiveSpan())?.setAttribute('aitp.request_id', request.id);
    });
  },
  { name: 'request-id' },
);
