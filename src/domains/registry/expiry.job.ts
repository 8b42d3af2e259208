import type { FastifyBaseLogger } from 'fastify';
import type { JobDefinition } from '../../plugins/jobs.js';
import type { RegistryService } from './service.js';

export const AGENT_EXPIRY_JOB = 'agent-expiry';

/**
 * Flips agents whose manifest lapsed to `expired` (OPERATIONS.md §10). It runs in every replica;
 * the single UPDATE makes overlapping runs harmless (see expireLapsedAgents).
 */
export function agentExpiryJob(registry: Pick<RegistryService, 'expireLapsed'>, intervalMs: number, log: FastifyBaseLogger): JobDefinition {
  return {
    name: AGENT_EXPIRY_JOB,
    intervalMs,
    firstRunMs: 10_000,
    run: async () => {
      const expired = await registry.expireLapsed();
      if (expired > 0) log.info({ job: AGENT_EXPIRY_JOB, expired }, 'agents expired');
    },
  };
}
