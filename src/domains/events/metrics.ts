import { Counter, type Registry } from 'prom-client';

const PREFIX = 'aitp_control_plane_';

/** The ingest route's own counters; what the pipeline stores is counted by src/domains/event-pipeline/metrics.ts. */
export function createEventMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    duplicates: new Counter({ name: `${PREFIX}events_duplicates_total`, help: 'ingested events that were already stored', registers }),
    batches: new Counter({ name: `${PREFIX}ingest_batches_total`, help: 'ingest batches by outcome', labelNames: ['outcome'] as const, registers }),
  };
  for (const outcome of ['ok', 'rejected']) metrics.batches.inc({ outcome }, 0);
  return metrics;
}

export type EventMetrics = ReturnType<typeof createEventMetrics>;
