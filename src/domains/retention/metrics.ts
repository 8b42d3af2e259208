import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RETENTION_TABLES, type RetentionTable } from './repository.js';
import { SWEEP_STATUSES, type SweepStatus } from './sweep.js';

/** Retention metrics of OPERATIONS.md §15, with every status and table pre-seeded. */
export function createRetentionMetrics(registry: Registry) {
  const registers = [registry];
  const sweeps = new Counter({
    name: 'aitp_control_plane_retention_sweeps_total',
    help: 'retention sweeps by status',
    labelNames: ['status'] as const,
    registers,
  });
  const deletedRows = new Counter({
    name: 'aitp_control_plane_retention_deleted_rows_total',
    help: 'rows deleted by the retention sweep',
    labelNames: ['table'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'aitp_control_plane_retention_sweep_duration_seconds',
    help: 'duration of sweeps that ran (completed, partial, error)',
    buckets: [1, 5, 15, 30, 60, 120, 300],
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'aitp_control_plane_retention_last_success_timestamp_seconds',
    help: 'epoch seconds at the end of the last completed sweep',
    registers,
  });
  for (const status of SWEEP_STATUSES) sweeps.inc({ status }, 0);
  for (const table of RETENTION_TABLES) deletedRows.inc({ table }, 0);

  return {
    rowsDeleted: (table: RetentionTable, rows: number) => deletedRows.inc({ table }, rows),
    sweepFinished(status: SweepStatus, durationMs: number, nowMs: number) {
      sweeps.inc({ status });
      if (status !== 'disabled' && status !== 'skipped') duration.observe(durationMs / 1000);
      if (status === 'completed') lastSuccess.set(nowMs / 1000);
    },
  };
}
