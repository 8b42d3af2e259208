// The verifiable audit log's cost and speed: ingest events/s with the log on and off (batches of
// 100 and 500), integration lag while ingesting at full speed, inclusion proofs per second, and
// the server's peak RSS either way. Server and Postgres on CPU 0, load on CPU 1 (bench/index.ts).
// Peak RSS is sampled every 100 ms while ingesting, and separately while the log catches up
// with the seeded backlog (written behind the server's back, so log off has no such phase).
// Lag of a leaf = created_at of the first checkpoint that covers it (signed at the end of the
// integrator's run) minus the row's created_at (the start of its ingest transaction).
// Env: BENCH_SECONDS (default 5), BENCH_RUNS (default 3), BENCH_SEED_EVENTS (default 200000).
// `npm run bench -- audit-log`
import pg from 'pg';
import { decodeEntry, BUNDLE_WIDTH } from '../src/domains/audit-log/entries.js';
import { batchMaker } from './lib/batches.js';
import { load, medianOf, type LoadResult } from './lib/load.js';
import { seedEvents } from './lib/seed.js';
import { BENCH_API_KEY, startBenchServer, type BenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 200_000);
const AUTH = { authorization: `Bearer ${BENCH_API_KEY}` };
const AIDS = Array.from({ length: 50 }, (_, i) => `aid:pubkey:seed-agent-${i}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function loggedSize(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ size: string }>('SELECT size FROM audit_log_state WHERE id = 1');
  return Number(rows[0]?.size ?? 0);
}

async function storedRows(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM admin_audit_log) AS n');
  return Number(rows[0]!.n);
}

async function caughtUp(pool: pg.Pool, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [size, stored] = await Promise.all([loggedSize(pool), storedRows(pool)]);
    if (size === stored) return size;
    if (Date.now() > deadline) throw new Error(`log at ${size} of ${stored} rows after ${timeoutMs} ms`);
    await sleep(200);
  }
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
  ingest: Record<number, LoadResult>;
  /** Peak RSS while ingesting (the steady state both sides share). */
  peakRssMb: number;
  /** Peak RSS while the integrator caught up with the seeded backlog (log on only). */
  catchUpRssMb?: number;
  lag?: { p50: number; p99: number; max: number; leaves: number; rate: number };
  proofs?: LoadResult;
}

function watchRss(server: BenchServer): { peak(): number; reset(): void; stop(): void } {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, server.rssMb())), 100);
  return { peak: () => peak, reset: () => (peak = server.rssMb()), stop: () => clearInterval(timer) };
}

async function measure(enabled: boolean): Promise<Side> {
  const server = await startBenchServer({ AUDIT_LOG_ENABLED: String(enabled) }, enabled ? 4700 : 4650);
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  const rss = watchRss(server);
  const side: Side = { ingest: {}, peakRssMb: 0 };
  try {
    await seedEvents(pool, SEED_EVENTS);
    if (enabled) {
      await caughtUp(pool, 600_000);
      side.catchUpRssMb = rss.peak();
    }
    // Both sides start ingesting from the same state, with no autovacuum of the seeded rows due
    // to land inside one side's measurement.
    await pool.query('VACUUM (ANALYZE)');
    await pool.query('CHECKPOINT');
    rss.reset();
    for (const batch of [100, 500]) {
      const body = batchMaker(batch, AIDS);
      side.ingest[batch] = await medianOf(RUNS, () => load({ url: `${server.base}/api/events`, method: 'POST', seconds: SECONDS, connections: 8, headers: AUTH, body }));
    }
    side.peakRssMb = rss.peak();
    if (enabled) {
      const from = await caughtUp(pool, 120_000);
      const run = await load({ url: `${server.base}/api/events`, method: 'POST', seconds: SECONDS * 2, connections: 8, headers: AUTH, body: batchMaker(100, AIDS) });
      const to = await caughtUp(pool, 120_000);
      const lags = await lagsOf(pool, from, to);
      side.lag = { p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100), leaves: lags.length, rate: run.rps * 100 };
      const size = to;
      await pool.query('VACUUM (ANALYZE)');
      const proof = () => `/api/audit-log/proof/inclusion?index=${Math.floor(Math.random() * size)}&size=${size}`;
      side.proofs = await medianOf(RUNS, () => load({ url: `${server.base}/api/audit-log/proof/inclusion`, seconds: SECONDS, headers: AUTH, path: proof }));
    }
    return side;
  } finally {
    rss.stop();
    await pool.end();
    await server.stop();
  }
}

const off = await measure(false);
const on = await measure(true);
console.log(`\nServer + Postgres on CPU 0, load on CPU 1; ${SEED_EVENTS.toLocaleString('en-US')} events seeded (and logged) first; median of ${RUNS} × ${SECONDS} s after a warm-up; RATE_LIMIT_ENABLED=false\n`);
console.log('| measure | log off | log on | change |\n|---|---|---|---|');
for (const batch of [100, 500]) {
  const [a, b] = [off.ingest[batch]!.rps * batch, on.ingest[batch]!.rps * batch];
  console.log(`| POST /api/events, batches of ${batch} (events/s) | ${fmt(a)} | ${fmt(b)} | ${round(((b - a) / a) * 100)} % |`);
}
console.log(`| peak server RSS while ingesting (MB) | ${off.peakRssMb} | ${on.peakRssMb} | ${round(on.peakRssMb - off.peakRssMb)} MB |`);
console.log(`\nPeak server RSS while the integrator caught up with the ${fmt(SEED_EVENTS)} seeded events: ${on.catchUpRssMb} MB (the server idles at ~105 MB before it).`);
const lag = on.lag!;
console.log(`\nIntegration lag while ingesting at full speed (${fmt(lag.rate)} events/s, batches of 100, ${SECONDS * 2} s, ${fmt(lag.leaves)} leaves): p50 ${fmt(lag.p50)} ms, p99 ${fmt(lag.p99)} ms, max ${fmt(lag.max)} ms (AUDIT_LOG_INTERVAL_MS=1000)`);
const proofs = on.proofs!;
console.log(`GET /api/audit-log/proof/inclusion, random leaf of ${fmt(SEED_EVENTS)}+: ${fmt(proofs.rps)} req/s, p50 ${proofs.p50} ms, p99 ${proofs.p99} ms${proofs.failed > 0 ? `, ${proofs.failed} failed` : ''}`);
