// Registry discovery throughput: GET /api/registry/agents?capability=…&limit=50 with 1,000 and
// 10,000 registered agents (contract Ruling 13). Run: npm run build && node --import tsx bench/discovery.bench.ts
//
// The server is the compiled production process (bench/lib/server.ts) with RATE_LIMIT_ENABLED=false
// and MAX_SSE_CONNECTIONS=10000; agents are seeded straight into its database with SQL; load
// comes from this process over keep-alive connections.
// Env: BENCH_SECONDS (per scenario, default 10), BENCH_CONNECTIONS (default 16), BENCH_PORT (default 4700).
import http from 'node:http';
import pg from 'pg';
import { buildManifest } from '../src/aitp/index.js';
import { startBenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const PORT = Number(process.env['BENCH_PORT'] ?? 4700);
/**
 * Every agent offers `common` and one of ten `cap.<n>`; every 1000th also `cap.rare`: the filters
 * match 100 %, 10 % and 0.1 % (the planner walks the registered_at index for the first two and
 * takes the GIN index on offered_caps for the rare one).
 */
const CAP_GROUPS = 10;

interface Outcome {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  nonOk: number;
  rowsPerPage: number;
}

/** Agents [from, to) with realistic rows: a real signed envelope text, two capabilities. */
async function seedAgents(pool: pg.Pool, from: number, to: number): Promise<void> {
  const envelope = buildManifest({
    seed: new Uint8Array(32).fill(7),
    displayName: 'bench-agent',
    handshakeEndpoint: 'https://bench.example.com/aitp/handshake',
    offeredCapabilities: ['cap.0', 'common'],
    publishedAt: Math.floor(Date.now() / 1000),
    ttlSecs: 86_400 * 30,
  }).body;
  await pool.query(
    `INSERT INTO agents (aid, display_name, handshake_endpoint, offered_caps, manifest_json, manifest_sha256,
                         manifest_expires_at, namespace, registered_at, last_enrolled_at)
     SELECT 'aid:pubkey:bench-' || lpad(i::text, 6, '0') || '-' || md5(i::text),
            'bench agent ' || i, 'https://bench-' || i || '.example.com/aitp/handshake',
            jsonb_build_array('cap.' || (i % $3::int), 'common') || CASE WHEN i % 1000 = 0 THEN '["cap.rare"]'::jsonb ELSE '[]'::jsonb END, $4, md5(i::text) || md5(i::text),
            now() + interval '30 days', 'default', now() - make_interval(secs => $2::int - i), now()
     FROM generate_series($1::int, $2::int - 1) AS i`,
    [from, to, CAP_GROUPS, envelope],
  );
  await pool.query('ANALYZE agents');
}

async function load(base: string, path: string): Promise<Outcome> {
  const url = new URL(path, base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let nonOk = 0;
  let rowsPerPage = 0;
  const get = (): Promise<{ status: number; body: string }> =>
    new Promise((resolve) => {
      const req = http.get({ host: url.hostname, port: url.port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', () => resolve({ status: 0, body: '' }));
    });
  const warmupEnd = performance.now() + 1000;
  while (performance.now() < warmupEnd) await get();
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const { status, body } = await get();
      latencies.push(performance.now() - sent);
      if (status !== 200) nonOk++;
      else if (rowsPerPage === 0) rowsPerPage = (JSON.parse(body) as { count: number }).count;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests: latencies.length, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), nonOk, rowsPerPage };
}

function report(agents: number, label: string, outcome: Outcome): void {
  const rps = Math.round(outcome.requests / outcome.seconds);
  console.log(
    `${String(agents).padStart(6)} agents  ${label.padEnd(30)} ${String(rps).padStart(6)} req/s  p50 ${round(outcome.p50, 2)} ms  ` +
      `p99 ${round(outcome.p99, 2)} ms  (${outcome.rowsPerPage} rows/page${outcome.nonOk > 0 ? `, ${outcome.nonOk} non-200` : ''})`,
  );
}

async function main(): Promise<void> {
  const server = await startBenchServer({}, PORT);
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  try {
    console.log(`discovery: ${CONNECTIONS} keep-alive connections, ${SECONDS} s per scenario, RATE_LIMIT_ENABLED=false`);
    let seeded = 0;
    for (const agents of [1_000, 10_000]) {
      await seedAgents(pool, seeded, agents);
      seeded = agents;
      report(agents, 'capability=cap.3 (10 %)', await load(server.base, '/api/registry/agents?capability=cap.3&limit=50'));
      report(agents, 'capability=common (100 %)', await load(server.base, '/api/registry/agents?capability=common&limit=50'));
      report(agents, 'capability=cap.rare (0.1 %)', await load(server.base, '/api/registry/agents?capability=cap.rare&limit=50'));
    }
    console.log(`server RSS ${server.rssMb()} MB`);
  } finally {
    await pool.end();
    await server.stop();
  }
}

await main();
