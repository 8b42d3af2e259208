import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubBatch, type CloseReason, type HubEvent, type HubProgress, type StreamConnection } from '../domains/stream/connection.js';
import { toHubEvent } from '../domains/stream/record.js';
import { newestRows, rowsAfter, rowsBySeq } from '../domains/stream/repository.js';
import { shuttingDown, sseCapacity } from '../lib/errors.js';

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2_000;
/** Past this many announced seqs waiting on a failing read, the hub switches to a catch-up. */
const MAX_RETAINED_SEQS = 100_000;

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
 * fanned out in notification order. A failed read is retried, never dropped. Each stream keeps
 * the highest seq it was sent, so after a LISTEN reconnect (notifications lost meanwhile) every
 * stream catches up from its own position, not from what a later notification announced.
 */
export default fp(
  async (app) => {
    const { MAX_SSE_CONNECTIONS, MAX_AUDIT_EVENTS_MEMORY } = app.config;
    const connections = new Set<StreamConnection>();
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

    // Seqs announced and not yet fanned out, in notification order: those announced while a
    // read runs go out together in the next one (one write per batch under load), and a batch
    // whose read failed stays here until a retry succeeds.
    let announced: number[] = [];
    let handledSeq = 0;
    let catchUpNeeded = false;
    // Seqs the last catch-up sent whose notification may still arrive: fanned out once only.
    let caughtUp = new Set<number>();
    let running = false;
    let stopped = false;
    const progress = (): HubProgress => ({ handledSeq, announced: new Set(announced) });

    const fanOut = (events: HubEvent[]): void => {
      if (events.length === 0) return;
      const batch = new HubBatch(events);
      for (const connection of connections) connection.deliver(batch);
      // Every stream got the batch in this one synchronous pass: one lag sample per event.
      const now = Date.now();
      for (const event of events) lag.observe((now - event.createdAt.getTime()) / 1000);
    };

    const flushAnnounced = async (): Promise<void> => {
      const seqs = announced.slice();
      const toRead = seqs.filter((seq) => !caughtUp.has(seq));
      const rows = connections.size === 0 || toRead.length === 0 ? [] : await rowsBySeq(app.db, toRead);
      announced = announced.slice(seqs.length);
      for (const seq of seqs) {
        caughtUp.delete(seq);
        if (seq > handledSeq) handledSeq = seq;
      }
      const order = new Map(seqs.map((seq, i) => [seq, i]));
      // Notification (commit) order, which concurrent transactions can make differ from seq order.
      rows.sort((a, b) => order.get(a.seq)! - order.get(b.seq)!);
      fanOut(rows.map(toHubEvent));
    };

    // What was committed while the LISTEN connection was down, read from the lowest position of
    // any open stream; past MAX_AUDIT_EVENTS_MEMORY rows only the newest are read and a stream
    // that may have missed older ones gets a gap.
    const catchUp = async (): Promise<void> => {
      catchUpNeeded = false;
      if (connections.size === 0) return;
      let since = Number.MAX_SAFE_INTEGER;
      for (const connection of connections) since = Math.min(since, connection.lastSeq);
      let rows = await rowsAfter(app.db, {}, since, MAX_AUDIT_EVENTS_MEMORY + 1);
      const truncated = rows.length > MAX_AUDIT_EVENTS_MEMORY;
      if (truncated) rows = await newestRows(app.db, {}, MAX_AUDIT_EVENTS_MEMORY);
      const events = rows.map(toHubEvent);
      caughtUp = new Set(events.map((e) => e.seq));
      announced = announced.filter((seq) => !caughtUp.delete(seq));
      for (const connection of connections) connection.catchUp(events, truncated);
      const last = events[events.length - 1];
      if (last !== undefined && last.seq > handledSeq) handledSeq = last.seq;
    };

    // One worker, so streams get events in the order the hub handles them; a failed read (the
    // database restarting) is retried after 250 ms, doubling to every 2 s, until it succeeds.
    const work = async (): Promise<void> => {
      if (running) return;
      running = true;
      let retryMs = RETRY_FIRST_MS;
      let failures = 0;
      while (!stopped && (catchUpNeeded || announced.length > 0)) {
        try {
          if (catchUpNeeded) await catchUp();
          else await flushAnnounced();
          retryMs = RETRY_FIRST_MS;
          failures = 0;
        } catch (err) {
          if (catchUpNeeded === false && announced.length > MAX_RETAINED_SEQS) {
            announced = [];
            catchUpNeeded = true;
          }
          failures++;
          app.log.warn({ err, attempt: failures, retryInMs: retryMs }, 'sse fan-out failed, retrying');
          await sleep(retryMs, undefined, { ref: false });
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        }
      }
      running = false;
    };

    app.notify.on('aitp_events', (payload) => {
      const seqs = Array.isArray(payload['seq']) ? payload['seq'].filter((s): s is number => Number.isSafeInteger(s)) : [];
      if (seqs.length === 0) return;
      if (connections.size === 0 && announced.length === 0) {
        handledSeq = Math.max(handledSeq, ...seqs);
        return;
      }
      for (const seq of seqs) announced.push(seq);
      void work();
    });

    app.notify.onReconnect(() => {
      if (connections.size === 0) return;
      catchUpNeeded = true;
      void work();
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
        connection.attach(progress);
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
    app.addHook('onClose', async () => {
      stopped = true;
    });
  },
  { name: 'sse-hub', dependencies: ['db', 'notify', 'lifecycle', 'metrics', 'config'] },
);
