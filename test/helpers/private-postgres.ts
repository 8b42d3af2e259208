import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
  /** SIGSTOP of the postmaster and every backend: connections stay open and nothing answers. */
  freeze(): void;
  /** SIGCONT of the processes freeze() stopped. */
  thaw(): void;
  /** One SQL statement over a short-lived connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
}

const started: Array<{ dir: string; running: () => EmbeddedPostgres | undefined; thaw: () => void }> = [];

export async function startPrivatePostgres(database = 'aitp_drill'): Promise<PrivatePostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-drill-'));
  const port = await freePort();
  let server: EmbeddedPostgres | undefined = await startEmbeddedPostgres({ dataDir, port, database });
  const { url, adminUrl } = server;
  let frozen: number[] = [];
  const thaw = (): void => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Already gone.
      }
    }
  };
  started.push({ dir: dataDir, running: () => server, thaw });
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
    freeze() {
      const postmaster = postmasterPid(dataDir);
      frozen = [postmaster, ...childrenOf(postmaster)];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw,
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

function postmasterPid(dataDir: string): number {
  return Number.parseInt(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10);
}

/** Direct children of `pid`, from /proc (Linux): the backends and background workers. */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, then ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process exited while we listed /proc.
    }
  }
  return children;
}

/** Stops every private PostgreSQL still running and removes its data dir. Call it in afterAll, after stopAll(). */
export async function stopAllPrivatePostgres(): Promise<void> {
  for (const { dir, running, thaw } of started.splice(0)) {
    thaw();
    await running()?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
