import { Counter, type Registry } from 'prom-client';
import { normalizedType, type StoredEvent } from '../events/index.js';
import { PROJECTIONS, type ProjectionTally } from '../projections/index.js';

const PREFIX = 'aitp_control_plane_';

/**
 * The `type` label is a closed set (OPERATIONS.md §15): the types the CP interprets (EVENTS.md
 * §1.2), alias-normalized; anything a client invents is `other`.
 */
export const TYPE_LABELS = [
  'handshake.started',
  'handshake.complete',
  'handshake.failed',
  'tct.issued',
  'tct.revoked',
  'delegation.issued',
  'delegation.revoked',
  'capability.invoked',
  'agent.registered',
  'agent.deregistered',
  'agent.expired',
  'other',
] as const;
const KNOWN_TYPES: ReadonlySet<string> = new Set(TYPE_LABELS);

export function typeLabel(type: string): string {
  const normalized = normalizedType(type);
  return KNOWN_TYPES.has(normalized) ? normalized : 'other';
}

/** What the pipeline stored and projected, whoever produced it (ingest or a CP emitter). */
export function createPipelineMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    ingested: new Counter({ name: `${PREFIX}events_ingested_total`, help: 'newly stored events by type', labelNames: ['type'] as const, registers }),
    projectionErrors: new Counter({
      name: `${PREFIX}projection_errors_total`,
      help: 'projection savepoint rollbacks',
      labelNames: ['projection'] as const,
      registers,
    }),
    projectionSkipped: new Counter({
      name: `${PREFIX}projection_skipped_total`,
      help: 'projection items skipped or stored as null for an invalid value',
      labelNames: ['projection'] as const,
      registers,
    }),
    sessions: new Counter({ name: `${PREFIX}sessions_total`, help: 'session rows created by this process', registers }),
  };
  for (const type of TYPE_LABELS) metrics.ingested.inc({ type }, 0);
  for (const projection of PROJECTIONS) {
    metrics.projectionErrors.inc({ projection }, 0);
    metrics.projectionSkipped.inc({ projection }, 0);
  }
  return metrics;
}

export type PipelineMetrics = ReturnType<typeof createPipelineMetrics>;

/** Counts what a committed transaction stored and projected (never before commit). */
export function recordCommitted(metrics: PipelineMetrics, stored: readonly StoredEvent[], tally: ProjectionTally): void {
  const byType = new Map<string, number>();
  for (const event of stored) {
    const label = typeLabel(event.type);
    byType.set(label, (byType.get(label) ?? 0) + 1);
  }
  for (const [type, count] of byType) metrics.ingested.inc({ type }, count);
  if (tally.sessionsCreated > 0) metrics.sessions.inc(tally.sessionsCreated);
  for (const projection of PROJECTIONS) {
    if (tally.errors[projection] > 0) metrics.projectionErrors.inc({ projection }, tally.errors[projection]);
    if (tally.skipped[projection] > 0) metrics.projectionSkipped.inc({ projection }, tally.skipped[projection]);
  }
}
