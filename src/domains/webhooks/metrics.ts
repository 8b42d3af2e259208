import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const PREFIX = 'aitp_control_plane_';

/** `webhook_delivery_attempts_total{outcome}` (OPERATIONS.md §15): a closed set, pre-seeded. */
export const ATTEMPT_OUTCOMES = ['success', 'http_error', 'network_error', 'timeout', 'dns_error'] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** What the outbox and dispatcher report; narrow so they stay free of prom-client. */
export interface WebhookMetrics {
  enqueued(count: number): void;
  attempt(outcome: AttemptOutcome, seconds: number): void;
  finished(status: 'delivered' | 'failed'): void;
  deferred(): void;
  unsafeTarget(): void;
}

export function createWebhookMetrics(registry: Registry, breakerStates: () => { open: number; half_open: number }): WebhookMetrics {
  const registers = [registry];
  const enqueued = new Counter({ name: `${PREFIX}webhook_deliveries_enqueued_total`, help: 'outbox rows created', registers });
  const attempts = new Counter({
    name: `${PREFIX}webhook_delivery_attempts_total`,
    help: 'webhook HTTP attempts by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: `${PREFIX}webhook_delivery_duration_seconds`,
    help: 'webhook attempt latency by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const finished = new Counter({
    name: `${PREFIX}webhook_deliveries_finished_total`,
    help: 'deliveries reaching a terminal status',
    labelNames: ['status'] as const,
    registers,
  });
  const deferred = new Counter({ name: `${PREFIX}webhook_deliveries_deferred_total`, help: 'circuit breaker denials', registers });
  const unsafe = new Counter({ name: `${PREFIX}webhook_unsafe_targets_total`, help: 'attempts refused by the URL guard', registers });
  new Gauge({
    name: `${PREFIX}webhook_circuit_breaker_open`,
    help: 'circuit breakers of this process in that state',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const counts = breakerStates();
      this.set({ state: 'open' }, counts.open);
      this.set({ state: 'half_open' }, counts.half_open);
    },
  });
  for (const outcome of ATTEMPT_OUTCOMES) attempts.inc({ outcome }, 0);
  finished.inc({ status: 'delivered' }, 0);
  finished.inc({ status: 'failed' }, 0);
  return {
    enqueued: (count) => enqueued.inc(count),
    attempt: (outcome, seconds) => {
      attempts.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    finished: (status) => finished.inc({ status }),
    deferred: () => deferred.inc(),
    unsafeTarget: () => unsafe.inc(),
  };
}
