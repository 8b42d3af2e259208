import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { StoredEvent } from '../../src/domains/events/types.js';
import { enqueueDeliveries } from '../../src/domains/webhooks/outbox.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text, exactly as received. */
  body: string;
}

export interface ReceiverReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
}

export type Respond = (request: ReceivedRequest, index: number) => ReceiverReply;

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  received: ReceivedRequest[];
  respondWith(respond: Respond): void;
  close(): Promise<void>;
}

/** A local webhook receiver on port 0 that records every request and answers as told. */
export async function startReceiver(respond: Respond = () => ({ status: 200, body: 'ok' })): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  let handler = respond;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      const reply = handler(request, received.length - 1);
      const send = () => res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    respondWith: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A stored event as the pipeline hands it over (EVENTS.md §1.1). */
export function storedEvent(fields: Partial<StoredEvent> & { type: string }): StoredEvent {
  return {
    id: randomUUID(),
    ts: new Date('2026-05-25T12:00:01.000Z'),
    aidA: null,
    aidB: null,
    sessionId: null,
    runId: null,
    grants: null,
    payload: {},
    source: 'playground',
    producer: 'apikey:0123456789abcdef',
    seq: 1,
    createdAt: new Date(),
    txid: 1,
    ...fields,
  };
}

/** The outbox step the events pipeline runs inside its transaction, then its after-commit report. */
export async function enqueue(app: FastifyInstance, events: StoredEvent[]): Promise<number> {
  const count = await app.db.transaction((tx) => enqueueDeliveries(tx, events));
  app.webhooks.enqueued(count);
  return count;
}
