import type { Database } from '../../db/client.js';

export type Executor = Pick<Database, 'execute'>;

/** The `projection` label values of projection_errors_total / projection_skipped_total (OPERATIONS.md §15). */
export const PROJECTIONS = ['session', 'tct', 'delegation', 'revocation'] as const;
export type ProjectionName = (typeof PROJECTIONS)[number];

/**
 * What projections did inside a transaction. Counters are applied only after the transaction
 * commits (STYLE: durable before visible), so a retried transaction is never counted twice.
 */
export interface ProjectionTally {
  sessionsCreated: number;
  /** Webhook outbox rows written for the batch (webhook_deliveries_enqueued_total). */
  deliveriesEnqueued: number;
  errors: Record<ProjectionName, number>;
  skipped: Record<ProjectionName, number>;
}

export function createTally(): ProjectionTally {
  return {
    sessionsCreated: 0,
    deliveriesEnqueued: 0,
    errors: { session: 0, tct: 0, delegation: 0, revocation: 0 },
    skipped: { session: 0, tct: 0, delegation: 0, revocation: 0 },
  };
}

/** Adds `from` into `into` (a savepoint's counts once it was released). */
export function mergeTally(into: ProjectionTally, from: ProjectionTally): void {
  into.sessionsCreated += from.sessionsCreated;
  into.deliveriesEnqueued += from.deliveriesEnqueued;
  for (const name of PROJECTIONS) {
    into.errors[name] += from.errors[name];
    into.skipped[name] += from.skipped[name];
  }
}

/** Where a failed projection is reported (`projection failed`, EVENTS.md §4.1). */
export interface ProjectionLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ProjectionDeps {
  log?: ProjectionLogger;
  tally?: ProjectionTally;
}
