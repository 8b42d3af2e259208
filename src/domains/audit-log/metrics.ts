import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';

const PREFIX = 'aitp_control_plane_audit_log_';
export const INTEGRATION_STATUSES = ['integrated', 'skipped', 'error'] as const;
export type IntegrationStatus = (typeof INTEGRATION_STATUSES)[number];

/** Audit log metrics; values come from the integrator's runs, never from a query per scrape. */
export function createAuditLogMetrics(registry: Registry, clock: Clock) {
  const registers = [registry];
  let checkpointAt: number | undefined;
  const size = new Gauge({ name: `${PREFIX}size`, help: 'leaves in the audit log', registers });
  const lag = new Gauge({
    name: `${PREFIX}integration_lag_seconds`,
    help: 'seconds the oldest committed row not yet in the log has waited, as of the last run (0 = caught up)',
    registers,
  });
  new Gauge({
    name: `${PREFIX}checkpoint_age_seconds`,
    help: 'seconds since the newest signed checkpoint (0 before the first one is known)',
    registers,
    collect() {
      this.set(checkpointAt === undefined ? 0 : Math.max(0, (clock.now() - checkpointAt) / 1000));
    },
  });
  const runs = new Counter({ name: `${PREFIX}integrations_total`, help: 'integrator runs by status', labelNames: ['status'] as const, registers });
  for (const status of INTEGRATION_STATUSES) runs.inc({ status }, 0);

  return {
    run: (status: IntegrationStatus) => runs.inc({ status }),
    /** After a run of this replica's integrator; `oldestWaitingMs` absent = caught up. */
    integrated(state: { size: number; checkpointAt: number; oldestWaitingMs?: number }) {
      size.set(state.size);
      checkpointAt = state.checkpointAt;
      lag.set(state.oldestWaitingMs === undefined ? 0 : Math.max(0, (clock.now() - state.oldestWaitingMs) / 1000));
    },
    /** While another replica integrates: what the log looks like now. */
    refreshed(state: { size: number; checkpointAt?: number }) {
      size.set(state.size);
      if (state.checkpointAt !== undefined) checkpointAt = state.checkpointAt;
    },
  };
}
