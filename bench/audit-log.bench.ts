// The verifiable audit log's cost and speed: ingest events/s with the log on and off (batches of
// 100 and 500), integration lag while ingesting at full speed, inclusion proofs per second, and
// the server's peak RSS either way. Servers and their Postgres on CPU 0, load on CPU 1
// (bench/index.ts).
// Both servers run side by side, each on its own Postgres, and the ingest load alternates between
// them (off, on, on, off, …): this machine's speed drifts by tens of percent over minutes, and
// runs taken back to back share the drift where two sides measured minutes apart do not. Before
// each run the log-on side's integrator has caught up, so neither side's run pays for the other.
// CPU per 1,000 events is read from /proc for the server process and its Postgres (postmaster
// and backends) over each run and the log's catch-up right after it (median of the runs).
// Peak RSS is sampled every 100 ms while ingesting (over all runs, and each run's own peak), and
// separately while the log catches up with the seeded backlog (written behind the server's back,
// so log off has no such phase).
// Lag of a leaf = created_at of the first checkpoint that covers it (signed at the end of the
// integrator's run) minus the row's created_at (the start of its ingest transaction).
// Env: BENCH_SECONDS (default 5), BENCH_RUNS (runs per side and batch size, default 5),
// BENCH_SEED_EVENTS (default 200000).
// `npm run bench -- audit-log`
import pg from 'pg';
import { decodeEntry, BUNDLE_WIDTH } from '../src/domains/audit-log/entries.js';
import { oldestWaiting, readState } from '../src/domains/audit-log/repository.js';
import { batchMaker } from './lib/batches.js';
import { load, medianOf, type LoadResult } from './lib/load.js';
import { seedEvents } from './lib/seed.js';
import { BENCH_API_KEY, cpuSecondsOfTree, startBenchServer, type BenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 200_000);
const AUTH = { authorization: `Bearer ${BENCH_API_KEY}` };
const AIDS = Array.from({ length: 50 }, (_, i) => `aid:pubkey:seed-agent-${i}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The log's size once nothing committed waits for it: no event or admin row at or after the
 * integrator's position (the server's own test, `oldestWaiting`: index probes). The polls run on
 * the log-on side's Postgres inside its CPU window, so they must cost next to nothing. (Until
 * round (6) each poll counted every stored row: 16–29 ms of Postgres CPU per poll at 300,000
 * rows, charged to the log.)
 */
async function caughtUp(pool: pg.Pool, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readState(pool);
    if ((await oldestWaiting(pool, state)) === undefined) return state.size;
    if (Date.now() > deadline) throw new Error(`log at ${state.size} with rows still waiting after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Every stored row is in the log exactly once (one count, outside any measured window). */
async function assertComplete(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ size: string; stored: string }>(
    'SELECT (SELECT size FROM audit_log_state WHERE id = 1) AS size, (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM admin_audit_log) AS stored',
  );
  if (rows[0]!.size !== rows[0]!.stored) throw new Error(`log holds ${rows[0]!.size} leaves for ${rows[0]!.stored} stored rows`);
}

/** Lag (ms) of every leaf in [from, to): first covering checkpoint's created_at minus the row's created_at. */
async function lagsOf(pool: pg.Pool, from: number, to: number): Promise<number[]> {
  const checkpoints = (await pool.query<{ size: string; at: Date }>('SELECT size, created_at AS at FROM audit_log_checkpoints WHERE size > $1 ORDER BY size', [from])).rows
    .map((r) => ({ size: Number(r.size), at: r.at.getTime() }));
  const bundles = (await pool.query<{ i: string; entries: Buffer }>('SELECT bundle_index AS i, entries FROM audit_log_bundles WHERE bundle_index BETWEEN $1 AND $2', [Math.floor(from / BUNDLE_WIDTH), Math.floor((to - 1) / BUNDLE_WIDTH)])).rows;
  const byIndex = new Map(bundles.map((b) => [Number(b.i), b.entries]));
  const lags: number[] = [];
  let c = 0;
  for (let leaf = from; leaf < to; leaf++) {
    while (checkpoints[c]!.size <= leaf) c++;
    const ref = decodeEntry(byIndex.get(Math.floor(leaf / BUNDLE_WIDTH))!, leaf % BUNDLE_WIDTH)!;
    lags.push(checkpoints[c]!.at - ref.createdMs);
  }
  return lags;
}

interface Side {
  enabled: boolean;
  server: BenchServer;
  pool: pg.Pool;
  rss: ReturnType<typeof watchRss>;
  ingest: Record<number, LoadResult[]>;
  /** CPU ms per 1,000 events of each ingest run: the server process, and its Postgres. */
  cpu: Record<number, Array<{ server: number; postgres: number }>>;
  /** Peak RSS while ingesting (the steady state both sides share). */
  peakRssMb: number;
  /** Each ingest run's own peak RSS, in run order. */
  runPeakRssMb: number[];
  stopped: boolean;
}

/** Peak RSS since the last reset, and since the last mark (one run's own peak). */
function watchRss(server: BenchServer): { peak(): number; reset(): void; mark(): void; sinceMark(): number; stop(): void } {
  let peak = 0;
  let marked = 0;
  const timer = setInterval(() => {
    const rss = server.rssMb();
    peak = Math.max(peak, rss);
    marked = Math.max(marked, rss);
  }, 100);
  return {
    peak: () => peak,
    reset: () => (peak = server.rssMb()),
    mark: () => (marked = server.rssMb()),
    sinceMark: () => marked,
    stop: () => clearInterval(timer),
  };
}

async function startSide(enabled: boolean): Promise<Side> {
  const server = await startBenchServer({ AUDIT_LOG_ENABLED: String(enabled) }, enabled ? 4700 : 4650);
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  return { enabled, server, pool, rss: watchRss(server), ingest: { 100: [], 500: [] }, cpu: { 100: [], 500: [] }, peakRssMb: 0, runPeakRssMb: [], stopped: false };
}

async function stopSide(side: Side): Promise<void> {
  if (side.stopped) return;
  side.stopped = true;
  side.rss.stop();
  await side.pool.end();
  await side.server.stop();
}

const ingestRun = (side: Side, batch: number, seconds: number) =>
  load({ url: `${side.server.base}/api/events`, method: 'POST', seconds, connections: 8, headers: AUTH, body: batchMaker(batch, AIDS) });

const median = (runs: LoadResult[]): LoadResult => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;
const medianNumber = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const off = await startSide(false);
const on = await startSide(true);
try {
  await Promise.all([seedEvents(off.pool, SEED_EVENTS), seedEvents(on.pool, SEED_EVENTS)]);
  await caughtUp(on.pool, 600_000);
  await assertComplete(on.pool);
  const catchUpRssMb = on.rss.peak();
  // Both sides start ingesting from the same state, with no autovacuum of the seeded rows due
  // to land inside one side's measurement.
  for (const side of [off, on]) {
    await side.pool.query('VACUUM (ANALYZE)');
    await side.pool.query('CHECKPOINT');
    side.rss.reset();
  }
  for (const batch of [100, 500]) {
    for (const side of [off, on]) await ingestRun(side, batch, 2); // warm-up
    for (let run = 0; run < RUNS; run++) {
      for (const side of run % 2 === 0 ? [off, on] : [on, off]) {
        await caughtUp(on.pool, 120_000);
        const [server0, postgres0] = [cpuSecondsOfTree(side.server.pid), cpuSecondsOfTree(side.server.postmaster)];
        side.rss.mark();
        const result = await ingestRun(side, batch, SECONDS);
        side.runPeakRssMb.push(side.rss.sinceMark());
        // Includes the integrator's work after the run (the next wait for catch-up is outside).
        await caughtUp(on.pool, 120_000);
        const thousands = (result.rps * batch * SECONDS) / 1000;
        side.ingest[batch]!.push(result);
        side.cpu[batch]!.push({
          server: ((cpuSecondsOfTree(side.server.pid) - server0) * 1000) / thousands,
          postgres: ((cpuSecondsOfTree(side.server.postmaster) - postgres0) * 1000) / thousands,
        });
      }
    }
  }
  for (const side of [off, on]) side.peakRssMb = side.rss.peak();
  await assertComplete(on.pool);
  await stopSide(off);

  const from = await caughtUp(on.pool, 120_000);
  const run = await ingestRun(on, 100, SECONDS * 2);
  const to = await caughtUp(on.pool, 120_000);
  await assertComplete(on.pool);
  const lags = await lagsOf(on.pool, from, to);
  const lag = { p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100), leaves: lags.length, rate: run.rps * 100 };
  await on.pool.query('VACUUM (ANALYZE)');
  const proof = () => `/api/audit-log/proof/inclusion?index=${Math.floor(Math.random() * to)}&size=${to}`;
  const proofs = await medianOf(3, () => load({ url: `${on.server.base}/api/audit-log/proof/inclusion`, seconds: SECONDS, headers: AUTH, path: proof }));

  console.log(`\nBoth servers (and their Postgres) on CPU 0, load on CPU 1; ${SEED_EVENTS.toLocaleString('en-US')} events seeded (and logged) first; ingest alternating between the sides, median of ${RUNS} × ${SECONDS} s per side after a warm-up; RATE_LIMIT_ENABLED=false\n`);
  console.log('| measure | log off | log on | change |\n|---|---|---|---|');
  for (const batch of [100, 500]) {
    const [a, b] = [median(off.ingest[batch]!).rps * batch, median(on.ingest[batch]!).rps * batch];
    console.log(`| POST /api/events, batches of ${batch} (events/s) | ${fmt(a)} | ${fmt(b)} | ${round(((b - a) / a) * 100)} % |`);
  }
  for (const batch of [100, 500]) {
    for (const who of ['server', 'postgres'] as const) {
      const [a, b] = [off, on].map((side) => medianNumber(side.cpu[batch]!.map((c) => c[who])));
      console.log(`| CPU ms per 1,000 events, ${who === 'server' ? 'server process' : 'its Postgres'}, batches of ${batch} | ${round(a!)} | ${round(b!)} | ${round(b! - a!)} ms |`);
    }
  }
  console.log(`| peak server RSS while ingesting (MB) | ${off.peakRssMb} | ${on.peakRssMb} | ${round(on.peakRssMb - off.peakRssMb)} MB |`);
  const [offRunRss, onRunRss] = [medianNumber(off.runPeakRssMb), medianNumber(on.runPeakRssMb)];
  console.log(`| peak server RSS of each ingest run, median (MB) | ${offRunRss} | ${onRunRss} | ${round(onRunRss - offRunRss)} MB |`);
  // Each run's off and on sides ran back to back (in alternating order), so the change within a
  // pair is free of the machine's drift between pairs.
  for (const batch of [100, 500]) {
    const changes = off.ingest[batch]!.map((o, i) => ((on.ingest[batch]![i]!.rps - o.rps) / o.rps) * 100).sort((a, b) => a - b);
    console.log(`| ingest change within each back-to-back pair, batches of ${batch}: median (lowest … highest) | | | ${round(medianNumber(changes))} % (${round(changes[0]!)} … ${round(changes.at(-1)!)}) |`);
  }
  for (const batch of [100, 500]) {
    console.log(`\nRuns at batches of ${batch} (events/s, in order): off ${off.ingest[batch]!.map((r) => fmt(r.rps * batch)).join(', ')}; on ${on.ingest[batch]!.map((r) => fmt(r.rps * batch)).join(', ')}`);
  }
  console.log(`\nPeak server RSS while the integrator caught up with the ${fmt(SEED_EVENTS)} seeded events: ${catchUpRssMb} MB (the server idles at ~105 MB before it).`);
  console.log(`\nIntegration lag while ingesting at full speed (${fmt(lag.rate)} events/s, batches of 100, ${SECONDS * 2} s, ${fmt(lag.leaves)} leaves): p50 ${fmt(lag.p50)} ms, p99 ${fmt(lag.p99)} ms, max ${fmt(lag.max)} ms (AUDIT_LOG_INTERVAL_MS=1000)`);
  console.log(`GET /api/audit-log/proof/inclusion, random leaf of ${fmt(SEED_EVENTS)}+: ${fmt(proofs.rps)} req/s, p50 ${proofs.p50} ms, p99 ${proofs.p99} ms${proofs.failed > 0 ? `, ${proofs.failed} failed` : ''}`);
} finally {
  for (const side of [off, on]) await stopSide(side);
}
