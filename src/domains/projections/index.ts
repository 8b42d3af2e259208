import { sql } from 'drizzle-orm';
import { isConnectivityError } from '../../db/errors.js';
import { isRetryableTxError } from '../../db/retry.js';
import { normalizedType, type StoredEvent } from '../events/index.js';
import { projectDelegation } from './delegations.js';
import { projectRevocation } from './revocation.js';
import { projectSessions } from './sessions.js';
import { createTally, mergeTally, type Executor, type ProjectionDeps, type ProjectionName, type ProjectionTally } from './tally.js';
import { projectTcts } from './tcts.js';

export { createTally, PROJECTIONS, type ProjectionDeps, type ProjectionLogger, type ProjectionName, type ProjectionTally } from './tally.js';

/** What each interpreted type feeds (EVENTS.md §1.2), keyed by the alias-normalized type. */
const PROJECTIONS_OF: ReadonlyMap<string, readonly ProjectionName[]> = new Map<string, ProjectionName[]>([
  ['handshake.started', ['session']],
  ['handshake.complete', ['session', 'tct']],
  ['handshake.failed', ['session']],
  ['tct.issued', ['tct']],
  ['delegation.issued', ['delegation']],
  ['tct.revoked', ['revocation']],
  ['delegation.revoked', ['revocation']],
]);

/** True when an event of this type feeds at least one projection. */
export function feedsProjection(type: string): boolean {
  return PROJECTIONS_OF.has(normalizedType(type));
}

interface Step {
  event: StoredEvent;
  type: string;
  name: ProjectionName;
}

/**
 * Projections for newly stored events, in batch order, inside the caller's transaction
 * (EVENTS.md §4.1). Each (event, projection) is isolated by a savepoint: a DB error is logged
 * (`projection failed`), counted, and rolled back while the batch still commits. Events no
 * projection interprets cost nothing. Fast path: the whole batch runs under one savepoint with
 * the steps grouped into few statements; only if something fails is it rolled back and replayed
 * step by step, each step under its own savepoint.
 */
export async function projectEvents(tx: Executor, stored: readonly StoredEvent[], deps: ProjectionDeps = {}): Promise<void> {
  const steps: Step[] = [];
  for (const event of stored) {
    const type = normalizedType(event.type);
    for (const name of PROJECTIONS_OF.get(type) ?? []) steps.push({ event, type, name });
  }
  if (steps.length === 0) return;
  const tally = deps.tally ?? createTally();
  const attempt = createTally();
  try {
    await inSavepoint(tx, () => runSteps(tx, steps, attempt));
    mergeTally(tally, attempt);
    return;
  } catch (err) {
    if (mustAbort(err)) throw err;
    // Replayed below, one savepoint per step, so the failing step is identified and isolated.
  }
  for (const step of steps) await runIsolated(tx, step, tally, deps);
}

/**
 * Runs steps with the outcome of running them one by one in order, in fewer statements.
 * Sessions touch only handshake_sessions, so they form their own sequence, cut into groups of
 * pairwise distinct session ids (one upsert each). TCT, delegation and revocation steps depend
 * on each other (a revocation must see the TCT issued before it), so they keep their order;
 * consecutive TCT steps share one INSERT.
 */
async function runSteps(tx: Executor, steps: readonly Step[], tally: ProjectionTally): Promise<void> {
  for (const group of distinctSessionGroups(steps.filter((s) => s.name === 'session'))) await projectSessions(tx, group, tally);
  const ordered = steps.filter((s) => s.name !== 'session');
  for (let i = 0; i < ordered.length; ) {
    const step = ordered[i]!;
    if (step.name === 'tct') {
      let end = i;
      while (end < ordered.length && ordered[end]!.name === 'tct') end++;
      await projectTcts(tx, ordered.slice(i, end).map((s) => s.event), tally);
      i = end;
      continue;
    }
    if (step.name === 'delegation') await projectDelegation(tx, step.event, tally);
    else await projectRevocation(tx, step.event, tally);
    i++;
  }
}

/** Consecutive runs in which no session id repeats (an upsert may touch a row only once). */
function distinctSessionGroups(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  let current: Step[] = [];
  let ids = new Set<string | null>();
  for (const step of steps) {
    if (ids.has(step.event.sessionId)) {
      groups.push(current);
      current = [];
      ids = new Set();
    }
    ids.add(step.event.sessionId);
    current.push(step);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

async function runIsolated(tx: Executor, step: Step, tally: ProjectionTally, deps: ProjectionDeps): Promise<void> {
  const attempt = createTally();
  try {
    await inSavepoint(tx, () => runSteps(tx, [step], attempt));
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
