import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.js';
import { freePort } from './process.js';

/**
 * A PostgreSQL of a test's own, in a temp data dir, for drills that stop or restart the database
 * (the run's shared one must never be touched: other test files use it).
 */
export interface PrivatePostgres {
  url: string;
  adminUrl: string;
  database: string;
  /** Fast shutdown: every backend is terminated, new connections are refused. */
  stop(): Promise<void>;
  /** Starts it again on the same data dir and port (after stop()). */
  restart(): Promise<void>;
  /** One SQL statement over a short-lived connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
}

const started: Array<{ dir: string; running: () => EmbeddedPostgres | undefined }> = [];

export async function startPrivatePostgres(database = 'aitp_drill'): Promise<PrivatePostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-drill-'));
  const port = await freePort();
  let server: EmbeddedPostgres | undefined = await startEmbeddedPostgres({ dataDir, port, database });
  const { url, adminUrl } = server;
  started.push({ dir: dataDir, running: () => server });
  return {
    url,
    adminUrl,
    database,
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async restart() {
      server = await startEmbeddedPostgres({ dataDir, port, database });
    },
    async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<R>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/** Stops every private PostgreSQL still running and removes its data dir. Call it in afterAll, after stopAll(). */
export async function stopAllPrivatePostgres(): Promise<void> {
  for (const { dir, running } of started.splice(0)) {
    await running()?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
