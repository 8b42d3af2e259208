import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { jcs } from '../aitp/index.js';
import { idempotencyInProgress, idempotencyKeyInvalid, idempotencyKeyReused } from '../lib/errors.js';
import { sha256Hex } from '../lib/hashing.js';
import { claim, complete, read, release, takeOver, type RecordId } from './idempotency-store.js';
import type { IdempotencyPolicy } from './route-policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request owns an in-progress idempotency record. */
    idempotencyRecord?: RecordId;
  }
}

const MAX_KEY_CHARS = 255;
// eslint-disable-next-line no-control-regex -- control characters are exactly what rule 3 rejects
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/** API.md §0.4 rule 3: checked on the raw value, then trimmed; the trimmed value is the key. */
export function parseIdempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (CONTROL_CHARS.test(value)) throw idempotencyKeyInvalid('Idempotency-Key contains control characters');
  const key = value.trim();
  if (key === '' || key.length > MAX_KEY_CHARS) throw idempotencyKeyInvalid('Idempotency-Key must be 1–255 characters');
  return key;
}

/**
 * Idempotency-Key for the seven scoped POSTs (API.md §0.4). The lookup runs as the route's
 * last preHandler (after body validation and, for register, the token checks); a 2xx outcome
 * is stored and replayed, anything else releases the record so a retry executes again.
 */
export default fp(
  async (app) => {
    const registers = [app.metrics.registry];
    const replays = new Counter({ name: 'aitp_control_plane_idempotency_replays_total', help: 'idempotent replays', labelNames: ['scope'] as const, registers });
    const conflicts = new Counter({
      name: 'aitp_control_plane_idempotency_conflicts_total',
      help: '422 and 409 idempotency answers',
      labelNames: ['kind'] as const,
      registers,
    });
    conflicts.inc({ kind: 'reused' }, 0);
    conflicts.inc({ kind: 'in_progress' }, 0);
    app.decorateRequest('idempotencyRecord', undefined);

    const lookup = (policy: IdempotencyPolicy): preHandlerAsyncHookHandler =>
      async function idempotencyLookup(this: unknown, request: FastifyRequest, reply: FastifyReply) {
        const key = parseIdempotencyKey(request.headers['idempotency-key']);
        if (key === undefined) return;
        const id: RecordId = { scope: policy.scope, caller: policy.caller?.(request) ?? request.principal.fingerprint, key };
        const hash = sha256Hex(jcs(request.body ?? null));
        for (let attempt = 0; attempt < 3; attempt++) {
          if (await claim(app.db, id, hash)) {
            request.idempotencyRecord = id;
            return;
          }
          const stored = await read(app.db, id);
          if (stored === undefined) continue; // released between our insert and read: claim again
          if (stored.requestHash !== hash) {
            conflicts.inc({ kind: 'reused' });
            throw idempotencyKeyReused();
          }
          if (stored.state === 'completed') {
            replays.inc({ scope: policy.scope });
            const body = policy.restore ? await policy.restore(request, stored.responseBody) : stored.responseBody;
            return reply.status(stored.responseStatus ?? 200).header('idempotency-replayed', 'true').send(body);
          }
          if (stored.lockExpired && (await takeOver(app.db, id))) {
            request.idempotencyRecord = id;
            return;
          }
          conflicts.inc({ kind: 'in_progress' });
          throw idempotencyInProgress();
        }
        throw idempotencyInProgress();
      };

    app.addHook('onRoute', (route) => {
      const policy = (route.config as { idempotency?: IdempotencyPolicy } | undefined)?.idempotency;
      if (!policy) return;
      const own = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      route.preHandler = [...own, lookup(policy)];
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const id = request.idempotencyRecord;
      if (id === undefined) return payload;
      request.idempotencyRecord = undefined;
      try {
        if (reply.statusCode >= 200 && reply.statusCode < 300) {
          const policy = request.routeOptions.config?.idempotency;
          const body: unknown = typeof payload === 'string' && payload !== '' ? JSON.parse(payload) : null;
          await complete(app.db, id, reply.statusCode, policy?.redact ? policy.redact(body) : body);
        } else {
          await release(app.db, id);
        }
      } catch (err) {
        // The response stands; the record stays in progress and its lock expires in 60 s.
        request.log.error({ err, scope: id.scope }, 'idempotency record not saved');
      }
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['db', 'metrics', 'auth'] },
);
