import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_API_KEY } from './app.js';
import { stopAllPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { freePort, spawnServer, stopAll, waitForStatus, type ServerProcess } from './process.js';

export interface DrillServer {
  server: ServerProcess;
  base: string;
}

const dataDirs: string[] = [];

/**
 * A real server process on a drill's own PostgreSQL: fresh secrets and DATA_DIR, the test API key,
 * rate limiting off, a replica id of its own; `extra` adds or overrides variables. Resolves once
 * /api/health answers 200.
 */
export async function bootDrillServer(db: PrivatePostgres, extra: Record<string, string> = {}): Promise<DrillServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-drill-'));
  dataDirs.push(dataDir);
  const port = await freePort();
  const server = spawnServer({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    API_KEYS: TEST_API_KEY,
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    RATE_LIMIT_ENABLED: 'false',
    REPLICA_ID: `drill-${randomBytes(3).toString('hex')}`,
    ...extra,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForStatus(`${base}/api/health`, 200, 60_000);
  return { server, base };
}

/** For afterAll: every server and private PostgreSQL still running stopped, their DATA_DIRs removed. */
export async function stopDrills(): Promise<void> {
  await stopAll();
  await stopAllPrivatePostgres();
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
