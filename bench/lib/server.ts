import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
  /** Its PostgreSQL's postmaster pid (the backends are its children). */
  postmaster: number;
  /** Resident set size of the server process in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
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

/** A process and its current children, as pid strings. */
function processTree(pid: number): string[] {
  let listed = '';
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch (err) {
    // ps exits 1 when it lists nothing: a process without children.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  const children = listed.split('\n').filter((p) => p.trim() !== '');
  return [String(pid), ...children.map((p) => p.trim())];
}

/** Pins a process, every thread of it and its current children to one CPU (children forked later inherit it). */
function pinTree(pid: number, cpu: number): void {
  for (const each of processTree(pid)) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), each], { stdio: 'ignore' });
}

/** The node arguments of `npm start` (`npm run build && node <args>`), so the bench runs what production runs. */
function productionArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const command = pkg.scripts.start.split('&&').at(-1)!.trim().split(/\s+/);
  if (command[0] !== 'node') throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return command.slice(1);
}

/** Spawns a node process pinned to CPU 0 (taskset execs node in place, so the pid is node's). */
function spawnOnCpu0(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/**
 * A bare Fastify 5 server returning a static 1 KB JSON on GET /, on CPU 0: the yardstick the
 * manifest target is relative to (issue #11).
 */
export async function startBareFastify(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawnOnCpu0(['--import', 'tsx', 'bench/lib/bare-fastify.ts', String(port)], { PATH: process.env.PATH ?? '' });
  const url = `http://127.0.0.1:${port}/`;
  await waitHealthy(url, 30_000);
  return { url, stop: () => stopChild(child) };
}

export interface BenchPostgres {
  dir: string;
  pg: EmbeddedPostgres;
  /** The postmaster's pid; its backends are its children. */
  postmaster: number;
}

/** A real embedded PostgreSQL in a temp directory, pinned to CPU 0 (its backends inherit it). */
export async function startBenchPostgres(port: number): Promise<BenchPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-bench-'));
  const pg = await startEmbeddedPostgres({ dataDir: dir, port, database: 'aitp_control_plane' });
  const postmaster = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  pinTree(postmaster, 0);
  return { dir, pg, postmaster };
}

/** CPU seconds (user + system) a process and its current children have used, from /proc. */
export function cpuSecondsOfTree(pid: number): number {
  let ticks = 0;
  for (const each of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${each}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited between ps and the read
    }
  }
  return ticks / 100;
}

/**
 * Starts a real embedded PostgreSQL and the server as its own node process (as production runs
 * it), both pinned to CPU 0 with taskset so the load generator has CPU 1 to itself.
 */
export async function startBenchServer(env: Record<string, string> = {}, port = 4600): Promise<BenchServer> {
  const { dir, pg, postmaster } = await startBenchPostgres(port + 1000);
  // The compiled server, as production runs it (`npm run bench` builds dist/ first).
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server (after those of `npm start`, so they
  // win), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const args = productionArgs();
  const child = spawnOnCpu0([...args.slice(0, -1), ...extra, ...args.slice(-1)], {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: pg.url,
      PORT: String(port),
      DATA_DIR: dir,
      API_KEYS: BENCH_API_KEY,
      RATE_LIMIT_ENABLED: 'false',
      MAX_SSE_CONNECTIONS: '10000',
      LOG_LEVEL: 'warn',
      // `AUDIT_LOG_ENABLED=false npm run bench` measures the hot paths without the audit log.
      ...(process.env.AUDIT_LOG_ENABLED === undefined ? {} : { AUDIT_LOG_ENABLED: process.env.AUDIT_LOG_ENABLED }),
      ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(`${base}/api/health`, 60_000);
  // taskset execs node in place, so this pid is the server itself.
  const serverPid = child.pid!;
  return {
    base,
    databaseUrl: pg.url,
    pid: serverPid,
    postmaster,
    rssMb: () => readRssMb(serverPid),
    async stop() {
      await stopChild(child);
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
