import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { erasePreviousSecrets } from './repository.js';

export const SECRET_EXPIRY_JOB = 'webhook-secret-expiry';
/** Signing already ignores an ended overlap (by the clock); this only bounds how long it stays stored. */
export const SECRET_EXPIRY_INTERVAL_MS = 60_000;

/**
 * Erases replaced webhook secrets once their overlap has ended, including on webhooks that get no
 * deliveries (erasing at claim time would leave those behind). Idempotent, so every replica
 * may run it.
 */
export function createSecretExpiry(deps: { db: Database; clock: Clock; log: Pick<FastifyBaseLogger, 'info'> }) {
  return async (): Promise<void> => {
    const erased = await erasePreviousSecrets(deps.db, new Date(deps.clock.now()));
    if (erased > 0) deps.log.info({ erased }, 'replaced webhook secrets erased');
  };
}
