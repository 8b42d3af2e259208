import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

// OPERATIONS.md §15 (+ Ruling 12's delivery-lag histogram): every metric, with its type.
const CATALOGUE: Record<string, 'counter' | 'gauge' | 'histogram'> = {
  http_requests_total: 'counter',
  http_request_duration_seconds: 'histogram',
  rate_limit_drops_total: 'counter',
  rate_limit_tracked_keys: 'gauge',
  rate_limit_evictions_total: 'counter',
  auth_failures_total: 'counter',
  agents_active: 'gauge',
  agents_expired: 'gauge',
  agents_deregistered: 'gauge',
  enroll_tokens_issued_total: 'counter',
  enroll_verification_failures_total: 'counter',
  registrations_total: 'counter',
  agents_expired_total: 'counter',
  events_ingested_total: 'counter',
  events_duplicates_total: 'counter',
  ingest_batches_total: 'counter',
  projection_errors_total: 'counter',
  projection_skipped_total: 'counter',
  sessions_total: 'counter',
  sse_streams_open: 'gauge',
  sse_streams_opened_total: 'counter',
  sse_streams_rejected_total: 'counter',
  sse_streams_closed_total: 'counter',
  sse_events_sent_total: 'counter',
  sse_delivery_lag_seconds: 'histogram',
  notify_listener_connected: 'gauge',
  notify_listener_reconnects_total: 'counter',
  webhook_deliveries: 'gauge',
  webhook_deliveries_enqueued_total: 'counter',
  webhook_delivery_attempts_total: 'counter',
  webhook_delivery_duration_seconds: 'histogram',
  webhook_deliveries_finished_total: 'counter',
  webhook_deliveries_deferred_total: 'counter',
  webhook_unsafe_targets_total: 'counter',
  webhook_circuit_breaker_open: 'gauge',
  sealed_secrets: 'gauge',
  revocation_list_entries: 'gauge',
  revocation_list_snapshot_age_seconds: 'gauge',
  revocation_list_refreshes_total: 'counter',
  revocation_list_unavailable_total: 'counter',
  cp_manifest_expires_at_seconds: 'gauge',
  idempotency_replays_total: 'counter',
  idempotency_conflicts_total: 'counter',
  retention_sweeps_total: 'counter',
  retention_deleted_rows_total: 'counter',
  retention_sweep_duration_seconds: 'histogram',
  retention_last_success_timestamp_seconds: 'gauge',
  audit_log_size: 'gauge',
  audit_log_integration_lag_seconds: 'gauge',
  audit_log_checkpoint_age_seconds: 'gauge',
  audit_log_integrations_total: 'counter',
  db_up: 'gauge',
  db_pool_connections: 'gauge',
  draining: 'gauge',
  build_info: 'gauge',
};

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: true }));
});
afterAll(async () => {
  await app.close();
});

async function scrape(): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
}

describe('metrics catalogue (OPERATIONS.md §15)', () => {
  it('exposes every catalogue metric with its type after some traffic', async () => {
    await app.inject({ method: 'GET', url: '/api/health' });
    await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: [{ type: 'handshake.started', sessionId: 's-1' }] });
    const text = await scrape();
    const missing: string[] = [];
    for (const [name, type] of Object.entries(CATALOGUE)) {
      if (!text.includes(`# TYPE aitp_control_plane_${name} ${type}\n`)) missing.push(`${name} (${type})`);
    }
    expect(missing).toEqual([]);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('keeps label values bounded when 10,000 distinct event types are ingested', async () => {
    for (let batch = 0; batch < 20; batch++) {
      const events = Array.from({ length: 500 }, (_, i) => ({ type: `custom.type.${batch}.${i}`, payload: { i } }));
      const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: events });
      expect(res.statusCode).toBe(200);
    }
    const text = await scrape();
    const ingestedLines = text.split('\n').filter((l) => l.startsWith('aitp_control_plane_events_ingested_total{'));
    expect(ingestedLines.length).toBeLessThanOrEqual(12);
    expect(text).not.toContain('custom.type.');
    expect(text).toMatch(/aitp_control_plane_events_ingested_total\{type="other"\} 10000/);
  }, 60_000);
});
