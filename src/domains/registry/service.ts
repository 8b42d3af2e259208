import type { Database } from '../../db/client.js';
import { isoOrNull, type TextRow } from '../../db/raw-query.js';
import { withTxRetry } from '../../db/retry.js';
import { inTransaction, type TxPool } from '../../db/transaction.js';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import { envelopeJson, listEnvelopeJson, type Page } from '../../lib/pagination.js';
import { HitRate, renderPage } from '../../lib/rendered-page.js';
import { VersionCache } from '../../lib/version-cache.js';
import { recordAudit } from '../admin-audit/index.js';
import { cpEvent, type EventPipeline } from '../events/index.js';
import type { RegistryCounters } from './metrics.js';
import {
  type AgentFilter,
  type AgentSummaryRow,
  deregisterAgent,
  expireLapsedAgents,
  findAgentRow,
  findAgentsByAid,
  findManifestJson,
  listAgentRows,
  listAgentVersions,
} from './repository.js';
import { agentJson } from './views.js';

export interface RegistryDeps {
  db: Database;
  /** The pool behind `db`: the raw discovery and detail reads, transactions. */
  pool: Parameters<typeof listAgentRows>[0] & TxPool;
  clock: Clock;
  counters: Pick<RegistryCounters, 'expired'>;
  /** The events write path: projections and NOTIFY in the transaction, metrics after commit. */
  pipeline: EventPipeline;
}

export interface Actor {
  actorId: string;
  requestId: string;
}

/** agent.expired (EVENTS.md §5.1). */
function expiredEvent(row: AgentSummaryRow, at: Date) {
  const payload = {
    displayName: row.displayName,
    namespace: row.namespace,
    reason: 'manifest_expired',
    manifestExpiresAt: row.manifestExpiresAt?.toISOString() ?? null,
  };
  return cpEvent({ type: 'agent.expired', ts: at, aidA: row.aid, payload });
}

/** Rendered agents kept (~0.6 KB each): a registry of this size is listed without rendering. */
const RENDERED_AGENTS = 10_000;
const RENDERED_TTL_MS = 10 * 60_000;

/** Discovery, detail, raw manifest, deregistration and expiry (API.md §2.2, §2.5–§2.7). */
export function createRegistryService(deps: RegistryDeps) {
  const { db, clock } = deps;
  const now = (): Date => new Date(clock.now());
  const rendered = new VersionCache<string>(RENDERED_AGENTS, RENDERED_TTL_MS);
  const hitRate = new HitRate();
  const keyOf = (row: TextRow) => ({ key: row['aid']!, version: row['version']! });

  return {
    /** The discovery list as JSON text (API.md §2.2). */
    async list(filter: AgentFilter, page: Page): Promise<string> {
      const at = now();
      // Listed with the manifest, rows are not kept: the envelopes would fill the cache.
      if (filter.includeManifest) return listEnvelopeJson('agents', await listAgentRows(deps.pool, filter, page, at), page, agentJson);
      const { items, hasMore } = await renderPage(rendered, hitRate, page.limit, {
        listKeys: async () => (await listAgentVersions(deps.pool, filter, page, at)).map(keyOf),
        fetchRows: (aids) => findAgentsByAid(deps.pool, aids, at),
        readPage: () => listAgentRows(deps.pool, filter, page, at),
        keyOf,
        render: agentJson,
      });
      return envelopeJson('agents', items, page, hasMore);
    },

    /** One Agent view as JSON text (API.md §2.5). */
    async get(aid: string): Promise<string> {
      const row = await findAgentRow(deps.pool, aid, now());
      if (row === undefined) throw notFound('agent not found');
      return agentJson(row);
    },

    /** The stored register body, byte for byte (Ruling 17). */
    async manifest(aid: string): Promise<string> {
      const body = await findManifestJson(db, aid);
      if (body === undefined) throw notFound('agent not found');
      return body;
    },

    /** Idempotent: a second call changes nothing and writes no event or audit row (§2.6). */
    async deregister(aid: string, actor: Actor): Promise<{ aid: string; status: 'deregistered'; deregisteredAt: string }> {
      const at = now();
      const flipped = await withTxRetry(() =>
        inTransaction(deps.pool, async (tx) => {
          const row = await deregisterAgent(tx.db, aid, at);
          if (row === undefined) return undefined;
          const event = cpEvent({ type: 'agent.deregistered', ts: at, aidA: aid, payload: { reason: 'admin_deregister' } });
          const persisted = await deps.pipeline.persist(tx, [event]);
          await recordAudit(tx.db, { action: 'agent.deregister', actorId: actor.actorId, targetId: aid, details: {}, requestId: actor.requestId });
          return { row, committed: persisted.committed };
        }),
      );
      flipped?.committed();
      if (flipped !== undefined) return { aid, status: 'deregistered', deregisteredAt: (flipped.row.deregisteredAt ?? at).toISOString() };
      const row = await findAgentRow(deps.pool, aid, at);
      if (row === undefined) throw notFound('agent not found');
      return { aid, status: 'deregistered', deregisteredAt: isoOrNull(row['deregistered_at']) ?? at.toISOString() };
    },

    /**
     * One expiry pass (OPERATIONS.md §10): the flip and its agent.expired events commit
     * together, so an agent is announced expired exactly once across replicas.
     */
    async expireLapsed(): Promise<number> {
      const at = now();
      const outcome = await withTxRetry(() =>
        inTransaction(deps.pool, async (tx) => {
          const rows = await expireLapsedAgents(tx.db, at);
          if (rows.length === 0) return { expired: 0, committed: () => undefined };
          const persisted = await deps.pipeline.persist(tx, rows.map((row) => expiredEvent(row, at)));
          return { expired: rows.length, committed: persisted.committed };
        }),
      );
      outcome.committed();
      if (outcome.expired > 0) deps.counters.expired(outcome.expired);
      return outcome.expired;
    },
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
