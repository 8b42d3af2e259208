import type { FastifyReply } from 'fastify';

/**
 * Sends a body that is already JSON text (src/db/raw-query.ts). Fastify passes strings through
 * untouched, so the route's response schema documents the shape (OpenAPI) and the writer's
 * tests check it; it is not re-serialized.
 */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
