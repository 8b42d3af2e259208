import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { badRequest, expectationFailed, headersTooLarge, requestTimeout, type AppError } from '../lib/errors.js';
import { methodLabel } from './metrics.js';
import { newRequestId } from './request-id.js';

/**
 * Requests Node rejects below the router (Ruling 28): malformed framing, bad bytes in the
 * request line or a header, unknown methods, an HTTP/2 preface, oversized headers, a request
 * not received within REQUEST_TIMEOUT_MS / HEADERS_TIMEOUT_MS, a bogus `Expect`, CONNECT. Each
 * gets the `{error, code}` envelope with `Connection: close`, an access line and the HTTP
 * metrics, like any routed request.
 */

const NO_ANSWER = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);

function errorFor(code: string | undefined): AppError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestTimeout();
  if (code === 'HPE_HEADER_OVERFLOW') return headersTooLarge();
  return badRequest('malformed HTTP request');
}

/** A whole HTTP/1.1 response, for sockets no ServerResponse owns. */
function rawResponse(error: AppError, requestId: string): string {
  const body = JSON.stringify({ error: error.message, code: error.code });
  return [
    `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'x-content-type-options: nosniff',
    'cache-control: no-store',
    `x-request-id: ${requestId}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

interface Rejection {
  method: string | undefined;
  url: string | undefined;
  statusCode: number;
  code: string;
  reason: string;
  clientIp: string | undefined;
  requestId: string;
}

function record(app: FastifyInstance, rejection: Rejection): void {
  app.metrics.httpRequests.inc({ method: methodLabel(rejection.method ?? ''), route: 'unmatched', status_code: String(rejection.statusCode) });
  const { requestId, ...fields } = rejection;
  app.log.info({ reqId: requestId, route: 'unmatched', ...fields }, 'request completed');
}

/** Fastify's `clientErrorHandler` (bound to the root instance): Node's parser or timers gave up. */
export function handleClientError(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  if (socket.destroyed || NO_ANSWER.has(err.code ?? '')) {
    socket.destroy();
    return;
  }
  // A request timeout can hit a request Fastify is already handling (its body trickles in).
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse & { req?: IncomingMessage } })._httpMessage;
  const error = errorFor(err.code);
  const requestId = newRequestId();
  if (socket.writable && inFlight?.headersSent !== true) socket.write(rawResponse(error, requestId));
  socket.destroy();
  record(this, {
    method: inFlight?.req?.method,
    url: inFlight?.req?.url,
    statusCode: error.statusCode,
    code: error.code,
    reason: err.code ?? err.message,
    clientIp: socket.remoteAddress,
    requestId,
  });
}

export default fp(
  async (app) => {
    // Node answers any `Expect` but 100-continue with an empty 417.
    app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      const error = expectationFailed();
      const requestId = newRequestId();
      const body = JSON.stringify({ error: error.message, code: error.code });
      res.writeHead(error.statusCode, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'x-request-id': requestId,
        connection: 'close',
      });
      res.end(body);
      record(app, { method: req.method, url: req.url, statusCode: error.statusCode, code: error.code, reason: 'expectation', clientIp: req.socket.remoteAddress, requestId });
    });
    // CONNECT never reaches the router; without a listener Node drops the socket unanswered.
    app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
      const error = badRequest('CONNECT is not supported');
      const requestId = newRequestId();
      if (socket.writable) socket.end(rawResponse(error, requestId));
      socket.destroySoon();
      record(app, { method: req.method, url: req.url, statusCode: error.statusCode, code: error.code, reason: 'connect', clientIp: socket.remoteAddress, requestId });
    });
    // A response sent before the request body arrived (401, 429, 413, …) closes the connection:
    // otherwise Node keeps reading and discarding that body at whatever pace the client sends it.
    app.addHook('onSend', async (request, reply) => {
      if (request.raw.complete === false) reply.header('connection', 'close');
    });
  },
  { name: 'connection-guard', dependencies: ['metrics'] },
);
