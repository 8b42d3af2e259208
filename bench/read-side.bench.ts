// Read side over a large database: dashboard overview (24h, 30d) and agents, sessions list and
// detail, a capped session export streamed as JSONL, TCT capability filter, delegation tree.
// Run: npm run build && node --import tsx bench/read-side.bench.ts
//
// The server is the compiled production process (bench/lib/server.ts) with RATE_LIMIT_ENABLED=false
// and MAX_SSE_CONNECTIONS=10000. Rows are seeded straight into its database with SQL:
// 1,000,000 events (20 % capability.invoked) over 100,000 sessions spread across 30 days, one
// session with 12,000 events (export cap 10,000), 1,000 agents, 50,000 TCTs, a delegation tree of
// 1,000 nodes under one TCT.
// Env: BENCH_SECONDS (per scenario, default 5), BENCH_CONNECTIONS (default 8), BENCH_PORT (default 4800).
import http from 'node:http';
import pg from 'pg';
import { BENCH_API_KEY, startBenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const PORT = Number(process.env['BENCH_PORT'] ?? 4800);
const EVENTS = 1_000_000;
const SESSIONS = 100_000;
const TREE_ROOT = '00000000-0000-4000-8000-000000000001';
const BIG_SESSION = 'bench-big-session';

async function seed(pool: pg.Pool): Promise<void> {
  await pool.query(`
    INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256, registered_at)
    SELECT 'aid:pubkey:bench-' || i, 'agent ' || i, 'https://a.example.com/aitp', '{}', md5(i::text) || md5(i::text), now() - i * interval '1 minute'
    FROM generate_series(1, 1000) i`);
  await pool.query(
    `INSERT INTO handshake_sessions (session_id, aid_a, aid_b, status, boundary, created_at, updated_at)
     SELECT 'bench-s-' || i, 'aid:pubkey:bench-' || (i % 1000 + 1), 'aid:pubkey:bench-' || ((i * 7) % 1000 + 1),
            (ARRAY['started','complete','complete','failed'])[i % 4 + 1], (ARRAY['cross_org','intra_org',NULL])[i % 3 + 1],
            now() - (i::float / $1) * interval '30 days', now()
     FROM generate_series(1, $1::int) i`,
    [SESSIONS],
  );
  await pool.query(
    `INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, payload, source, producer)
     SELECT gen_random_uuid(), CASE WHEN i % 5 = 0 THEN 'capability.invoked' ELSE 'handshake.progress' END,
            now() - (i::float / $1) * interval '30 days', 'aid:pubkey:bench-' || (i % 1000 + 1), NULL,
            'bench-s-' || (i % $2 + 1), jsonb_build_object('capability', 'cap.' || (i % 25)), 'bench', 'anonymous'
     FROM generate_series(1, $1::int) i`,
    [EVENTS, SESSIONS],
  );
  await pool.query(`INSERT INTO handshake_sessions (session_id, status, created_at) VALUES ($1, 'complete', now())`, [BIG_SESSION]);
  await pool.query(
    `INSERT INTO audit_events (id, type, ts, session_id, payload, source, producer)
     SELECT gen_random_uuid(), 'handshake.progress', now() - i * interval '1 millisecond', $1, jsonb_build_object('n', i), 'bench', 'anonymous'
     FROM generate_series(1, 12000) i`,
    [BIG_SESSION],
  );
  await pool.query(`
    INSERT INTO issued_tcts (jti, issuer_aid, subject_aid, audience_aid, grants, issued_at, session_id)
    SELECT gen_random_uuid(), 'aid:pubkey:bench-' || (i % 1000 + 1), 'aid:pubkey:bench-2', 'aid:pubkey:bench-2',
           jsonb_build_array('cap.' || (i % 25)), now() - i * interval '1 second', 'bench-s-' || i
    FROM generate_series(1, 50000) i`);
  // A tree: node i's parent is node i / 4 (node 0 = the TCT root), 1,000 delegations, depth 5.
  await pool.query(
    `INSERT INTO delegations (jti, parent_jti, delegator_aid, delegatee_aid, issued_at)
     SELECT ('00000000-0000-4000-8000-' || lpad((i + 1)::text, 12, '0'))::uuid,
            ('00000000-0000-4000-8000-' || lpad((i / 4 + 1)::text, 12, '0'))::uuid,
            'aid:pubkey:bench-1', 'aid:pubkey:bench-2', now() - i * interval '1 second'
     FROM generate_series(1, 1000) i`,
  );
  await pool.query('ANALYZE');
}

interface Outcome {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  nonOk: number;
  bytes: number;
}

async function load(base: string, path: string, connections = CONNECTIONS): Promise<Outcome> {
  const url = new URL(path, base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let nonOk = 0;
  let bytes = 0;
  const get = (): Promise<{ status: number; size: number }> =>
    new Promise((resolve) => {
      const req = http.get({ host: url.hostname, port: url.port, path, agent, headers: { authorization: `Bearer ${BENCH_API_KEY}` } }, (res) => {
        let size = 0;
        res.on('data', (chunk: Buffer) => (size += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, size }));
      });
      req.on('error', () => resolve({ status: 0, size: 0 }));
    });
  const warmupEnd = performance.now() + 500;
  while (performance.now() < warmupEnd) await get();
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const { status, size } = await get();
      latencies.push(performance.now() - sent);
      if (status !== 200) nonOk++;
      bytes = size;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests: latencies.length, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), nonOk, bytes };
}

function report(label: string, o: Outcome): void {
  const rps = round(o.requests / o.seconds, 1);
  console.log(
    `${label.padEnd(44)} ${String(rps).padStart(8)} req/s  p50 ${round(o.p50, 2)} ms  p99 ${round(o.p99, 2)} ms  ` +
      `(${Math.round(o.bytes / 1024)} KiB/response${o.nonOk > 0 ? `, ${o.nonOk} non-200` : ''})`,
  );
}

async function main(): Promise<void> {
  const server = await startBenchServer({}, PORT);
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  try {
    const seeding = performance.now();
    await seed(pool);
    console.log(`read side: seeded ${EVENTS + 12_000} events, ${SESSIONS + 1} sessions in ${round((performance.now() - seeding) / 1000)} s`);
    console.log(`${CONNECTIONS} keep-alive connections, ${SECONDS} s per scenario, RATE_LIMIT_ENABLED=false`);
    report('dashboard overview range=24h', await load(server.base, '/api/dashboard/overview?range=24h'));
    report('dashboard overview range=30d', await load(server.base, '/api/dashboard/overview?range=30d'));
    report('dashboard overview range=30d, 1 connection', await load(server.base, '/api/dashboard/overview?range=30d', 1));
    report('dashboard agents limit=1000', await load(server.base, '/api/dashboard/agents'));
    report('dashboard agents limit=1000, 1 connection', await load(server.base, '/api/dashboard/agents', 1));
    report('sessions list limit=200', await load(server.base, '/api/sessions'));
    report('sessions list status=failed offset=10000', await load(server.base, '/api/sessions?status=failed&offset=10000&limit=100'));
    report('session detail (10 events)', await load(server.base, '/api/sessions/bench-s-42'));
    report('session replay 12k events, limit=1000', await load(server.base, `/api/sessions/${BIG_SESSION}/replay`));
    report('session export jsonl (capped 10k events)', await load(server.base, `/api/sessions/${BIG_SESSION}/export?format=jsonl`, 2));
    report('tcts capability=cap.3 limit=100', await load(server.base, '/api/tcts?capability=cap.3'));
    report('delegations tree (1,000 nodes) limit=100', await load(server.base, `/api/delegations?root_jti=${TREE_ROOT}`));
    console.log(`server RSS ${server.rssMb()} MB`);
  } finally {
    await pool.end();
    await server.stop();
  }
}

await main();
