import fp from 'fastify-plugin';
import { toIso } from '../../lib/timestamps.js';
import { hashLeafTextLatin1 } from '../../lib/tlog/index.js';
import type { StoredEvent } from '../events/index.js';
import { createIntegrator, type Integrator } from './integrator.js';
import { storedEventLeafJcs } from './leaves.js';
import { createAuditLogMetrics } from './metrics.js';
import { RememberedLeaves, type RememberedEvent } from './remembered.js';
import { latestCheckpoint, readSize } from './repository.js';
import { auditLogRoutes } from './routes.js';
import { createAuditLogService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The audit log: `run()` integrates now and returns the result (tests); `remember()` keeps
     * the leaf hashes of events the pipeline just committed, for the integrator to take (how many
     * wait: `rememberedCount()`).
     */
    auditLog: Integrator & { remember(stored: readonly StoredEvent[]): void; rememberedCount(): number };
  }
}

/** Remembered leaves: at 10,000 events/s, five seconds of ingest (57 bytes each, ~3 MB at most). */
const REMEMBERED_LEAVES = 50_000;

/** The checkpoint origin and signed-note key name (C2SP tlog-checkpoint): `<CP_BASE_URL host>/audit`. */
export function auditLogOrigin(baseUrl: string): string {
  return `${new URL(baseUrl).host}/audit`;
}

/**
 * The verifiable audit log: every stored event and admin-audit row as a leaf of an RFC 9162
 * Merkle tree stored as tlog tiles, with checkpoints signed by the CP identity. Every replica
 * schedules the integrator; its advisory lock lets one run at a time.
 */
export default fp(
  async (app) => {
    const metrics = createAuditLogMetrics(app.metrics.registry, app.clock);
    const log = app.log.child({ job: 'audit-log' });
    const remembered = new RememberedLeaves(REMEMBERED_LEAVES);
    const integrator = createIntegrator({ pool: app.pool, origin: auditLogOrigin(app.config.CP_BASE_URL), seed: app.identity.seed, remembered });
    const remember = (stored: readonly StoredEvent[]): void => {
      if (!app.config.AUDIT_LOG_ENABLED || stored.length === 0) return;
      // One statement's rows, all of one transaction (a transaction may persist several times).
      const txid = stored[0]!.txid;
      const events: RememberedEvent[] = [];
      let createdMs = Number.NaN;
      let createdAtJson = '';
      try {
        for (const e of stored) {
          if (e.createdAt.getTime() !== createdMs) {
            createdMs = e.createdAt.getTime();
            createdAtJson = `"${toIso(e.createdAt)}"`;
          }
          events.push({ seq: e.seq, id: e.id, createdMs, latin1Hash: hashLeafTextLatin1(storedEventLeafJcs(e, createdAtJson)) });
        }
      } catch {
        // A value JCS cannot encode: the integrator reads the whole transaction back instead.
        remembered.forget(txid);
        return;
      }
      remembered.remember(txid, events);
    };
    const run: Integrator['run'] = async (signal) => {
      try {
        const result = await integrator.run(signal);
        metrics.run(result.status);
        if (result.status === 'integrated') {
          metrics.integrated(result);
          if (result.appended > 0) log.debug(result, 'audit log integrated');
        } else {
          const [size, latest] = await Promise.all([readSize(app.pool), latestCheckpoint(app.pool)]);
          metrics.refreshed({ size, checkpointAt: latest?.createdAt.getTime() });
        }
        return result;
      } catch (err) {
        metrics.run('error');
        throw err;
      }
    };
    app.decorate('auditLog', { run, remember, rememberedCount: () => remembered.size });
    if (app.config.AUDIT_LOG_ENABLED) {
      app.jobs.register({
        name: 'audit-log',
        intervalMs: app.config.AUDIT_LOG_INTERVAL_MS,
        firstRunMs: app.config.AUDIT_LOG_INTERVAL_MS,
        fixedRate: true,
        run: (signal) => run(signal).then(() => undefined),
      });
    }
    await app.register(auditLogRoutes, { service: createAuditLogService({ pool: app.pool, db: app.db, tileCacheBytes: app.config.AUDIT_LOG_TILE_CACHE_MB * 1024 * 1024 }) });
  },
  { name: 'audit-log', dependencies: ['config', 'db', 'jobs', 'metrics', 'clock', 'identity'] },
);
