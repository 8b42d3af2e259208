// Issue #11: every hot path against its target, in one table. `npm run bench` runs this.
//
// The server is the compiled production process with an embedded PostgreSQL, both pinned to CPU 0;
// this process (the load: autocannon, SSE clients) runs on CPU 1. RATE_LIMIT_ENABLED=false and
// MAX_SSE_CONNECTIONS=10000 (contract Ruling 13). Each HTTP figure is the median of RUNS runs of
// BENCH_SECONDS; SSE figures are the run with the median p99.
// Env: BENCH_SECONDS (default 5), BENCH_RUNS (default 3), BENCH_SEED_EVENTS (default 1000000).
import os from 'node:os';
import pg from 'pg';
import { batchMaker } from './lib/batches.js';
import { load, medianOf, type LoadResult } from './lib/load.js';
import { seedDiscoveryAgents, seedEvents } from './lib/seed.js';
import { BENCH_API_KEY, startBareFastify, startBenchServer, type BenchServer } from './lib/server.js';
import { sseFanOut, type FanOut } from './lib/sse.js';
import { round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 1_000_000);
const SETTLE_SECONDS = 60;
const AUTH = { authorization: `Bearer ${BENCH_API_KEY}` };

interface Row {
  path: string;
  figure: string;
  latency: string;
  target: string;
  met: boolean;
}

const rows: Row[] = [];

function httpRow(path: string, r: LoadResult, target: number, unit: 'req/s' | 'events/s', perRequest = 1): void {
  const figure = r.rps * perRequest;
  rows.push({
    path,
    figure: `${Math.round(figure).toLocaleString('en-US')} ${unit}${r.failed > 0 ? ` (${r.failed} failed)` : ''}`,
    latency: `p50 ${r.p50} ms, p99 ${r.p99} ms`,
    target: target > 0 ? `≥ ${target.toLocaleString('en-US')}` : '—',
    met: r.failed === 0 && figure >= target,
  });
}

function sseRow(r: FanOut, target: { p99?: number; max?: number }): void {
  const met = r.missing === 0 && (target.p99 === undefined || r.p99 <= target.p99) && (target.max === undefined || r.max <= target.max);
  rows.push({
    path: `SSE ${r.subscribers.toLocaleString('en-US')} subscribers × 100 events`,
    figure: `${r.delivered.toLocaleString('en-US')} delivered, ${r.missing} missing`,
    latency: `p50 ${round(r.p50)} ms, p99 ${round(r.p99)} ms, max ${round(r.max)} ms`,
    target: target.max !== undefined ? `all ≤ ${target.max} ms` : target.p99 !== undefined ? `p99 ≤ ${target.p99} ms` : '—',
    met,
  });
}

const get = (url: string, headers: Record<string, string> = {}) => () => load({ url, seconds: SECONDS, headers });

/** Peak server RSS, sampled every 100 ms over the whole run. */
function watchRss(server: BenchServer): { peak(): number; stop(): void } {
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, server.rssMb())), 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const bare = await startBareFastify(4590);
  const bareResult = await medianOf(RUNS, get(bare.url));
  await bare.stop();
  httpRow('bare Fastify 5, static 1 KB JSON (yardstick)', bareResult, 0, 'req/s');

  const server = await startBenchServer({}, 4600);
  const rss = watchRss(server);
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  try {
    httpRow('GET /api/health', await medianOf(RUNS, get(`${server.base}/api/health`)), 8_000, 'req/s');
    httpRow('GET /.well-known/aitp-manifest', await medianOf(RUNS, get(`${server.base}/.well-known/aitp-manifest`)), Math.round(bareResult.rps * 0.6), 'req/s');

    const discovery = `${server.base}/api/registry/agents?capability=cap.3&limit=50`;
    await seedDiscoveryAgents(pool, 0, 1_000);
    httpRow('GET /api/registry/agents?capability= (limit 50), 1,000 agents', await medianOf(RUNS, get(discovery, AUTH)), 3_000, 'req/s');
    await seedDiscoveryAgents(pool, 1_000, 10_000);
    httpRow('same, 10,000 agents', await medianOf(RUNS, get(discovery, AUTH)), 0, 'req/s');

    await seedEvents(pool, SEED_EVENTS);
    const history = `${server.base}/api/events/history?limit=100`;
    httpRow(`GET /api/events/history?limit=100, ${SEED_EVENTS.toLocaleString('en-US')} events`, await medianOf(RUNS, get(history, AUTH)), 3_000, 'req/s');
    // Every request the page before a random instant of the seeded month (`until`): rows mostly not rendered yet.
    const span = SEED_EVENTS * 2.5 * 1000;
    const randomPage = () => `/api/events/history?limit=100&until=${new Date(Date.now() - Math.random() * span).toISOString()}`;
    const coldHistory = () => load({ url: history, seconds: SECONDS, headers: AUTH, path: randomPage });
    httpRow('same, each request a random page (`until`), rows rendered anew', await medianOf(RUNS, coldHistory), 0, 'req/s');

    const aids = (await pool.query<{ aid: string }>('SELECT aid FROM agents ORDER BY aid LIMIT 50')).rows.map((r) => r.aid);
    for (const [batch, target] of [[100, 35_000], [500, 50_000]] as const) {
      const body = batchMaker(batch, aids);
      const ingest = () => load({ url: `${server.base}/api/events`, method: 'POST', seconds: SECONDS, connections: 8, headers: AUTH, body });
      httpRow(`POST /api/events, batches of ${batch}`, await medianOf(RUNS, ingest), target, 'events/s', batch);
    }

    for (const [subscribers, target] of [[200, { max: 50 }], [1_000, {}], [5_000, { p99: 250 }]] as const) {
      const runs: FanOut[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await sseFanOut(server.base, server.databaseUrl, subscribers));
      runs.sort((a, b) => a.p99 - b.p99);
      sseRow(runs[Math.floor(runs.length / 2)]!, target);
    }
    // V8 gives memory back once allocation stays low for a while (its memory reducer): settle first.
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const after = server.rssMb();
    rows.push({
      path: `server RSS ${SETTLE_SECONDS} s after the whole run`,
      figure: `${after} MB (peak ${rss.peak()} MB, during 5,000 SSE streams)`,
      latency: '',
      target: '≤ 150 MB',
      met: after <= 150,
    });
  } finally {
    rss.stop();
    await pool.end();
    await server.stop();
  }

  console.log(`\n${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`server + Postgres on CPU 0, load on CPU 1; median of ${RUNS} runs × ${SECONDS} s; ${round((Date.now() - started) / 60_000)} min\n`);
  console.log('| path | figure | latency | target | met |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.path} | ${r.figure} | ${r.latency} | ${r.target} | ${r.met ? 'yes' : r.target === '—' ? '' : '**no**'} |`);
}

await main();
