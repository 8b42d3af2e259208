import { sql } from 'drizzle-orm';
import { isConnectivityError } from '../../db/errors.js';
import { isRetryableTxError } from '../../db/retry.js';
import { normalizedType, type StoredEvent } from '../events/types.js';
import { projectDelegation } from './delegations.js';
import { projectRevocation } from './revocation.js';
import { projectSession } from './sessions.js';
import { createTally, mergeTally, type Executor, type ProjectionDeps, type ProjectionName, type ProjectionTally } from './tally.js';
import { projectTcts } from './tcts.js';

export { createTally, PROJECTIONS, type ProjectionDeps, type ProjectionLogger, type ProjectionName, type ProjectionTally } from './tally.js';

type Projector = (tx: Executor, event: StoredEvent, type: string, tally: ProjectionTally) => Promise<void>;

const session: [ProjectionName, Projector] = ['session', projectSession];
const tct: [ProjectionName, Projector] = ['tct', (tx, event, _type, tally) => projectTcts(tx, event, tally)];
const delegation: [ProjectionName, Projector] = ['delegation', (tx, event, _type, tally) => projectDelegation(tx, event, tally)];
const revocation: [ProjectionName, Projector] = ['revocation', (tx, event, _type, tally) => projectRevocation(tx, event, tally)];

/** What each interpreted type feeds (EVENTS.md §1.2), keyed by the alias-normalized type. */
const PROJECTORS: ReadonlyMap<string, ReadonlyArray<[ProjectionName, Projector]>> = new Map([
  ['handshake.started', [session]],
  ['handshake.complete', [session, tct]],
  ['handshake.failed', [session]],
  ['tct.issued', [tct]],
  ['delegation.issued', [delegation]],
  ['tct.revoked', [revocation]],
  ['delegation.revoked', [revocation]],
]);

interface Step {
  event: StoredEvent;
  type: string;
  name: ProjectionName;
  run: Projector;
}

/**
 * Projections for newly stored events, in batch order, inside the caller's transaction
 * (EVENTS.md §4.1). Each (event, projection) is isolated by a savepoint: a DB error is logged
 * (`projection failed`), counted, and rolled back while the batch still commits. Events no
 * projection interprets cost nothing. Fast path: the whole batch runs under one savepoint; only
 * if something fails is it rolled back and replayed step by step, each step under its own.
 */
export async function projectEvents(tx: Executor, stored: readonly StoredEvent[], deps: ProjectionDeps = {}): Promise<void> {
  const steps: Step[] = [];
  for (const event of stored) {
    const type = normalizedType(event.type);
    for (const [name, run] of PROJECTORS.get(type) ?? []) steps.push({ event, type, name, run });
  }
  if (steps.length === 0) return;
  const tally = deps.tally ?? createTally();
  const attempt = createTally();
  try {
    await inSavepoint(tx, async () => {
      for (const step of steps) await step.run(tx, step.event, step.type, attempt);
    });
    mergeTally(tally, attempt);
    return;
  } catch (err) {
    if (mustAbort(err)) throw err;
    // Replayed below, one savepoint per step, so the failing step is identified and isolated.
  }
  for (const step of steps) await runIsolated(tx, step, tally, deps);
}

async function runIsolated(tx: Executor, step: Step, tally: ProjectionTally, deps: ProjectionDeps): Promise<void> {
  const attempt = createTally();
  try {
    await inSavepoint(tx, () => step.run(tx, step.event, step.type, attempt));
    mergeTally(tally, attempt);
  } catch (err) {
    if (mustAbort(err)) throw err;
    tally.errors[step.name]++;
    deps.log?.error({ err, eventId: step.event.id, type: step.event.type, projection: step.name }, 'projection failed');
  }
}

/**
 * A deadlock or serialization failure aborts the whole transaction so the caller retries it, and
 * a lost connection is not a projection fault: neither may be swallowed as `projection failed`.
 */
function mustAbort(err: unknown): boolean {
  return isRetryableTxError(err) || isConnectivityError(err);
}

/** SAVEPOINT … RELEASE; on error ROLLBACK TO it (the transaction stays usable) and rethrow. */
async function inSavepoint(tx: Executor, work: () => Promise<void>): Promise<void> {
  await tx.execute(sql`SAVEPOINT aitp_projection`);
  try {
    await work();
  } catch (err) {
    await tx.execute(sql`ROLLBACK TO SAVEPOINT aitp_projection`);
    await tx.execute(sql`RELEASE SAVEPOINT aitp_projection`);
    throw err;
  }
  await tx.execute(sql`RELEASE SAVEPOINT aitp_projection`);
}
