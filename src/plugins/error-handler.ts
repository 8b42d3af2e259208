import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../db/errors.js';
import {
  AppError,
  badRequest,
  bodyInvalid,
  dbUnavailable,
  internalError,
  methodNotAllowed,
  notFound,
  payloadTooLarge,
} from '../lib/errors.js';

type ValidationContext = 'body' | 'querystring' | 'params' | 'headers';
type AjvIssue = { instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string };

/** JSON Pointer of the first failing member (a missing required member included). */
function pointerOf(issue: AjvIssue | undefined): string {
  if (!issue) return '';
  const base = issue.instancePath ?? '';
  const missing = issue.params?.['missingProperty'];
  return issue.keyword === 'required' && typeof missing === 'string' ? `${base}/${missing}` : base;
}

/** Contract Ruling 16: body → BODY_INVALID; query/header → BAD_REQUEST; path param → 404. */
function fromValidation(context: ValidationContext | undefined, issues: AjvIssue[]): AppError {
  const first = issues[0];
  const pointer = pointerOf(first);
  const detail = first?.message ?? 'is invalid';
  if (context === 'params') return notFound();
  if (context === 'querystring' || context === 'headers') {
    const name = pointer.replace(/^\//, '').split('/')[0] ?? '';
    return badRequest(`${context === 'headers' ? 'header' : 'query parameter'} ${name} ${detail}`, name);
  }
  return bodyInvalid(`body${pointer} ${detail}`, pointer);
}

/** Maps any thrown value to the catalogue; nothing from a library reaches the caller. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError> & { validationContext?: ValidationContext };
  if (Array.isArray(fe.validation)) return fromValidation(fe.validationContext, fe.validation as AjvIssue[]);
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fe.statusCode === 413) return payloadTooLarge();
  if (typeof fe.code === 'string' && fe.code.startsWith('FST_ERR_CTP')) return bodyInvalid('body could not be read');
  if (isDatabaseUnavailable(err)) return dbUnavailable();
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return badRequest('bad request');
  return internalError();
}

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply
    .status(err.statusCode)
    .type('application/json; charset=utf-8')
    .send({ error: err.message, code: err.code, ...err.extra });
}

export default fp(
  async (app) => {
    app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const appError = toAppError(err);
      if (appError.statusCode >= 500 && appError.code === 'INTERNAL_ERROR') {
        request.log.error({ err }, 'request failed');
      } else if (appError.code === 'DB_UNAVAILABLE') {
        request.log.warn({ err }, 'database unavailable');
      }
      return sendError(reply, appError);
    });

    app.setNotFoundHandler(async (request, reply) => {
      const allowed = app.routeTable.methodsFor(request.url);
      if (allowed.length > 0) return sendError(reply, methodNotAllowed(allowed));
      return sendError(reply, notFound('route not found'));
    });
  },
  { name: 'error-handler', dependencies: ['route-table'] },
);

/**
 * Fastify's own pre-routing failures (malformed percent-encoding in the path): 400 BAD_REQUEST
 * in the envelope, with the request id, since no hook has run yet.
 */
export function handleFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
  const appError = err.code === 'FST_ERR_BAD_URL' ? badRequest('malformed URL encoding') : toAppError(err);
  void sendError(reply, appError);
}
