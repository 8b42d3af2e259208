import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { shuttingDown } from '../../lib/errors.js';
import { aliased, commaList } from '../../lib/query.js';
import { logStreamCompleted } from '../../plugins/access-log.js';
import { normalizedType } from '../events/types.js';
import { PRELUDE, StreamConnection } from './connection.js';
import type { StreamFilter } from './filter.js';
import { toHubEvent } from './record.js';
import { loadBacklog } from './service.js';

const StreamQuery = Type.Object({
  type: Type.Optional(Type.String()),
  aid: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  run_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  runId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  backlog: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  last_event_id: Type.Optional(Type.String({ maxLength: 128 })),
  lastEventId: Type.Optional(Type.String({ maxLength: 128 })),
});

const DEFAULT_BACKLOG = 100;

function filterFrom(query: { type?: string; aid?: string; run_id?: string; runId?: string; session_id?: string; sessionId?: string }): StreamFilter {
  const types = commaList(query.type, 'type', 20);
  return {
    types: types === undefined ? undefined : new Set(types.map(normalizedType)),
    aid: query.aid,
    runId: aliased(query.run_id, query.runId),
    sessionId: aliased(query.session_id, query.sessionId),
  };
}

/** GET /api/events/stream (API.md §3.3, EVENTS.md §6). */
export async function streamRoutes(app: FastifyInstance): Promise<void> {
  const { MAX_AUDIT_EVENTS_MEMORY, SSE_MAX_BUFFERED_BYTES, SSE_HEARTBEAT_MS } = app.config;
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/events/stream',
    { exposeHeadRoute: false, config: { excludeFromLatency: true }, schema: { querystring: StreamQuery } },
    async (request, reply) => {
      app.sseHub.admit();
      const query = request.query;
      const filter = filterFrom(query);
      const backlog = Math.min(query.backlog === undefined ? DEFAULT_BACKLOG : Number(query.backlog), MAX_AUDIT_EVENTS_MEMORY);
      const header = request.headers['last-event-id'];
      const resumeId = (typeof header === 'string' && header !== '' ? header : undefined) ?? aliased(query.last_event_id, query.lastEventId);

      const bytesBefore = request.raw.socket.bytesWritten;
      const connection = new StreamConnection(reply.raw, {
        filter,
        maxBufferedBytes: SSE_MAX_BUFFERED_BYTES,
        heartbeatMs: SSE_HEARTBEAT_MS,
        onSent: (frames) => app.sseHub.sent(frames),
        onClose: (c, reason) => {
          app.sseHub.closed(c, reason);
          // Before the hijack the error handler answers and the onResponse hook logs the line.
          if (reply.sent) logStreamCompleted(request, reply, { bytes: request.raw.socket.bytesWritten - bytesBefore, reason });
        },
      });
      app.sseHub.add(connection);
      // The backlog is read before the status line, so a database that is down answers
      // 503 DB_UNAVAILABLE (the error handler) instead of a stream that ends at once.
      let backlogResult: Awaited<ReturnType<typeof loadBacklog>>;
      try {
        backlogResult = await loadBacklog(app.db, filter, backlog, resumeId, MAX_AUDIT_EVENTS_MEMORY);
      } catch (err) {
        connection.close('error');
        throw err;
      }
      if (connection.isClosed) {
        // Closed while its backlog loaded: the server began draining, or the client left.
        if (app.lifecycle.draining) throw shuttingDown();
        reply.hijack();
        reply.raw.destroy();
        return;
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write(PRELUDE);
      request.raw.socket.setTimeout(0);
      request.raw.socket.setNoDelay(true);
      request.log.info({ actor: request.principal.fingerprint, clientIp: request.clientIp }, 'sse stream opened');
      connection.goLive(backlogResult.rows.map(toHubEvent), backlogResult.gap);
    },
  );
}
