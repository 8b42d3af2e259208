import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef0123';

export interface BenchServer {
  base: string;
  databaseUrl: string;
  pid: number;
  /** Resident set size of the server process in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

async function waitHealthy(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('server did not become healthy');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resident set size of a process in MB, read from /proc. */
export function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

/**
 * Starts a real embedded PostgreSQL and the server as its own node process (as production runs
 * it), pinned to CPU 0 with taskset when available so the load generator can use CPU 1.
 */
export async function startBenchServer(env: Record<string, string> = {}, port = 4600): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-bench-'));
  const pg: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: dir, port: port + 1000, database: 'aitp_control_plane' });
  // The compiled server, as production runs it (`npm run bench` builds dist/ first).
  const args = ['--enable-source-maps', 'dist/server.js'];
  const child: ChildProcess = spawn('taskset', ['-c', '0', process.execPath, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: pg.url,
      PORT: String(port),
      DATA_DIR: dir,
      API_KEYS: BENCH_API_KEY,
      RATE_LIMIT_ENABLED: 'false',
      MAX_SSE_CONNECTIONS: '10000',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, 60_000);
  // taskset execs node in place, so this pid is the server itself.
  const serverPid = child.pid!;
  return {
    base,
    databaseUrl: pg.url,
    pid: serverPid,
    rssMb: () => readRssMb(serverPid),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
