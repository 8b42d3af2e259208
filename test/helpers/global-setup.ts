import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrate.js';

export const TEMPLATE_DATABASE = 'aitp_template';

// One embedded PostgreSQL per test run. The schema is migrated once into a template database;
// every test file clones it (test/helpers/database.ts), so files never see each other's rows.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-test-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = await startEmbeddedPostgres({ dataDir, port, database: TEMPLATE_DATABASE });
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

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    dataRoot: string;
  }
}
