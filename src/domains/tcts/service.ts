import type { Database } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { aliased, parseBoolean } from '../../lib/query-params.js';
import { listDelegations, listTcts } from './repository.js';
import type { DelegationQuery, TctQuery } from './schemas.js';
import { toDelegationView, toTctView } from './views.js';

export interface TctServiceDeps {
  db: Pick<Database, 'select'>;
  clock: Clock;
}

const PAGE_LIMITS = { defaultLimit: 100, maxLimit: 1000 };

/** GET /api/tcts and GET /api/delegations (API.md §9). */
export function createTctService(deps: TctServiceDeps) {
  /** `active=true` → not revoked and not expired now; `false` is no filter (API.md §9.1). */
  const activeAt = (active: string | undefined): Date | undefined =>
    parseBoolean(active) === true ? new Date(deps.clock.now()) : undefined;

  return {
    async listTcts(query: TctQuery) {
      const page = parsePage(query, PAGE_LIMITS);
      const rows = await listTcts(
        deps.db,
        {
          issuer: query.issuer,
          subject: query.subject,
          audience: query.audience,
          capability: query.capability,
          sessionId: aliased(query.session_id, query.sessionId),
          jti: query.jti?.toLowerCase(),
          activeAt: activeAt(query.active),
        },
        page,
      );
      return listEnvelope('tcts', rows.map(toTctView), page);
    },

    async listDelegations(query: DelegationQuery) {
      const page = parsePage(query, PAGE_LIMITS);
      const rows = await listDelegations(
        deps.db,
        {
          rootJti: aliased(query.root_jti, query.rootJti)?.toLowerCase(),
          parentJti: aliased(query.parent_jti, query.parentJti)?.toLowerCase(),
          delegator: query.delegator,
          delegatee: query.delegatee,
          activeAt: activeAt(query.active),
        },
        page,
      );
      return listEnvelope('delegations', rows.map(toDelegationView), page);
    },
  };
}

export type TctService = ReturnType<typeof createTctService>;
