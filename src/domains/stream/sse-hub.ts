import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram } from 'prom-client';
import { HubBatch, type CloseReason, type HubEvent, type StreamConnection } from './connection.js';
import { toHubEvent } from './record.js';
import { rowsAfter, rowsBySeq } from './repository.js';
import { shuttingDown, sseCapacity } from '../../lib/errors.js';

export interface SseHub {
  /** Throws 503 SSE_CAPACITY / SHUTTING_DOWN when a new stream may not open (EVENTS.md §6.2 step 1). */
  admit(): void;
  add(connection: StreamConnection): void;
  /** Bookkeeping when a stream closes: counted once per stream. */
  closed(connection: StreamConnection, reason: CloseReason): void;
  /** Frames a stream wrote outside the live fan-out (its backlog). */
  sent(frames: number): void;
  openCount(): number;
}

declare module 'fastify' {
  interface FastifyInstance {
    sseHub: SseHub;
  }
}

/**
 * The per-process SSE hub (EVENTS.md §6.6): NOTIFY aitp_events announces committed seqs; one
 * query loads them (skipped with no open streams) and each event's frame is built once and
 * fanned out in notification order. The hub tracks the highest seq announced so that after a
 * LISTEN reconnect it can send what it missed, or a gap when that is more than the cap.
 */
export default fp(
  async (app) => {
    const { MAX_SSE_CONNECTIONS, MAX_AUDIT_EVENTS_MEMORY } = app.config;
    const connections = new Set<StreamConnection>();
    let cursor = 0;
    let chain: Promise<void> = Promise.resolve();
    const registers = [app.metrics.registry];
    const open = new Gauge({ name: 'aitp_control_plane_sse_streams_open', help: 'open SSE streams', registers });
    const opened = new Counter({ name: 'aitp_control_plane_sse_streams_opened_total', help: 'SSE streams opened', registers });
    const rejected = new Counter({ name: 'aitp_control_plane_sse_streams_rejected_total', help: 'SSE connects refused', labelNames: ['reason'] as const, registers });
    const closedTotal = new Counter({ name: 'aitp_control_plane_sse_streams_closed_total', help: 'SSE streams closed', labelNames: ['reason'] as const, registers });
    const eventsSent = new Counter({ name: 'aitp_control_plane_sse_events_sent_total', help: 'event frames written', registers });
    const lag = new Histogram({
      name: 'aitp_control_plane_sse_delivery_lag_seconds',
      help: 'live fan-out time minus the event created_at, one sample per event',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    for (const reason of ['capacity', 'draining']) rejected.inc({ reason }, 0);
    for (const reason of ['client', 'slow_consumer', 'shutdown', 'error']) closedTotal.inc({ reason }, 0);

    const fanOut = (events: HubEvent[]): void => {
      if (events.length === 0) return;
      const batch = new HubBatch(events);
      for (const connection of connections) connection.deliver(batch);
      // Every stream got the batch in this one synchronous pass: one lag sample per event.
      const now = Date.now();
      for (const event of events) lag.observe((now - event.createdAt.getTime()) / 1000);
    };

    // Serialized so events reach streams in notification order even when queries overlap.
    const enqueue = (work: () => Promise<void>): void => {
      chain = chain.then(work).catch((err: unknown) => app.log.error({ err }, 'sse fan-out failed'));
    };

    // Seqs announced while a fan-out runs wait here and go out together in the next one, so under
    // load a stream gets one write per batch instead of one per event.
    let announced: number[] = [];
    const flushAnnounced = async (): Promise<void> => {
      const seqs = announced;
      announced = [];
      if (connections.size === 0) return;
      const order = new Map(seqs.map((seq, i) => [seq, i]));
      const rows = await rowsBySeq(app.db, seqs);
      // Notification (commit) order, which concurrent transactions can make differ from seq order.
      rows.sort((a, b) => order.get(a.seq)! - order.get(b.seq)!);
      fanOut(rows.map(toHubEvent));
    };

    app.notify.on('aitp_events', (payload) => {
      const seqs = Array.isArray(payload['seq']) ? payload['seq'].filter((s): s is number => Number.isSafeInteger(s)) : [];
      if (seqs.length === 0) return;
      cursor = Math.max(cursor, ...seqs);
      if (connections.size === 0) return;
      if (announced.length === 0) enqueue(flushAnnounced);
      for (const seq of seqs) announced.push(seq);
    });

    app.notify.onReconnect(() => {
      if (connections.size === 0) return;
      const since = cursor;
      enqueue(async () => {
        const rows = await rowsAfter(app.db, {}, since, MAX_AUDIT_EVENTS_MEMORY + 1);
        if (rows.length > MAX_AUDIT_EVENTS_MEMORY) {
          for (const connection of connections) connection.writeRaw('event: gap\ndata: {"reason":"listener_reconnected"}\n\n');
          cursor = rows[rows.length - 1]!.seq;
          return;
        }
        if (rows.length > 0) cursor = Math.max(cursor, rows[rows.length - 1]!.seq);
        fanOut(rows.map(toHubEvent));
      });
    });

    app.decorate('sseHub', {
      admit() {
        if (app.lifecycle.draining) {
          rejected.inc({ reason: 'draining' });
          throw shuttingDown();
        }
        if (connections.size >= MAX_SSE_CONNECTIONS) {
          rejected.inc({ reason: 'capacity' });
          throw sseCapacity();
        }
      },
      add(connection) {
        connections.add(connection);
        opened.inc();
        open.set(connections.size);
      },
      closed(connection, reason) {
        if (!connections.delete(connection)) return;
        closedTotal.inc({ reason });
        open.set(connections.size);
      },
      sent(frames) {
        eventsSent.inc(frames);
      },
      openCount: () => connections.size,
    });

    // Drain (OPERATIONS.md §13): every stream ends with `: shutting down` when the listener closes.
    app.addHook('preClose', async () => {
      for (const connection of [...connections]) connection.close('shutdown');
    });
  },
  { name: 'sse-hub', dependencies: ['db', 'notify', 'lifecycle', 'metrics', 'config'] },
);
