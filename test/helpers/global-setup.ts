import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { freePort } from './process.js';

export const TEMPLATE_DATABASE = 'aitp_template';

// One embedded PostgreSQL per test run. The schema is migrated once into a template database;
// every test file clones it (test/helpers/database.ts), so files never see each other's rows.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { dataDir, server } = await startTemplateServer();
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  await applyMigrations(pool);
  await pool.end();
  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgTemplate', TEMPLATE_DATABASE);
  // Test apps' DATA_DIRs live under this run's directory, so teardown removes them all.
  project.provide('dataRoot', dataDir);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/**
 * The run's Postgres on a port the OS just reported free, in a fresh directory; tried again
 * (new port, new directory) if it fails to start, since another process can take the port in
 * between. The last failure carries Postgres' own log lines.
 */
async function startTemplateServer(): Promise<{ dataDir: string; server: EmbeddedPostgres }> {
  for (let attempt = 1; ; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-test-'));
    const log: string[] = [];
    try {
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: TEMPLATE_DATABASE, onLog: (line) => log.push(line) });
      return { dataDir, server };
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      if (attempt === 3) throw new Error(`${(err as Error).message}\n${log.slice(-20).join('\n')}`);
    }
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    dataRoot: string;
  }
}
