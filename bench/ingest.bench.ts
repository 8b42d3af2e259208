// Event ingest and history throughput over a database holding >= 1,000,000 events (issue #6).
// Run: npm run build && node --import tsx bench/ingest.bench.ts   (or `npm run bench -- ingest`)
//
// The server is the compiled production process (bench/lib/server.ts) with RATE_LIMIT_ENABLED=false
// and MAX_SSE_CONNECTIONS=10000 (contract Ruling 13); the 1,000,000 events are seeded straight into
// its database with one INSERT … SELECT generate_series; load comes from this process over
// keep-alive connections. Every ingested batch is new content (a run nonce and a counter), so
// every event is inserted, none deduplicated; 50 registered agents appear as aid_a/aid_b.
// Env: BENCH_SECONDS (per scenario, default 10), BENCH_CONNECTIONS (default 8), BENCH_PORT
// (default 4900), BENCH_SEED_EVENTS (default 1000000).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { BENCH_API_KEY, startBenchServer } from './lib/server.js';
import { percentile, round } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const PORT = Number(process.env['BENCH_PORT'] ?? 4900);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 1_000_000);
const AGENTS = 50;
const aidOf = (i: number) => `aid:pubkey:bench-agent-${String(i % AGENTS).padStart(4, '0')}-${'x'.repeat(24)}`;
const CAPS = ['weather.read', 'calendar.write', 'search.query', 'files.read'];

interface Scenario {
  name: string;
  path: string;
  /** POST: events per batch. */
  batch?: number;
  /** Share of interpreted events (handshake.*, tct.issued, all projected) in a batch, 0..1. */
  interpreted?: number;
}

interface Outcome {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

/** A batch of ~330-byte playground-style events, each new content (no `id`: ids are derived). */
function batchBody(size: number, interpreted: number, nonce: string, counter: { n: number }): string {
  const parts: string[] = [];
  for (let i = 0; i < size; i++) {
    const n = counter.n++;
    const common = `"ts":${1716638400000 + n},"aid_a":"${aidOf(n)}","aid_b":"${aidOf(n + 7)}","session_id":"s-${nonce}-${Math.floor(n / 3)}","run_id":"run-${nonce}"`;
    if ((n % 100) / 100 < interpreted) {
      const type = ['handshake.started', 'handshake.completed', 'tct.issued'][n % 3]!;
      const tct = `"tct":{"jti":"${crypto.randomUUID()}","iss":"${aidOf(n)}","sub":"${aidOf(n + 7)}","grants":["weather.read"],"iat":1716638400}`;
      parts.push(`{"type":"${type}",${common},"grants":["weather.read"],"payload":{"boundary":"cross-org",${tct},"seq":${n}}}`);
    } else {
      parts.push(
        `{"type":"capability.invoked",${common},"payload":{"capability":"${CAPS[n % CAPS.length]}","args":{"city":"Paris","units":"metric"},"latencyMs":${n % 97},"seq":${n}}}`,
      );
    }
  }
  return `{"events":[${parts.join(',')}]}`;
}

async function load(base: string, scenario: Scenario, seconds: number): Promise<Outcome> {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const nonce = randomBytes(6).toString('hex');
  const counter = { n: 0 };
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const post = scenario.batch !== undefined;
  const send = (body: string | undefined): Promise<number> =>
    new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${BENCH_API_KEY}` };
      if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      const req = http.request({ host: url.hostname, port: url.port, agent, method: post ? 'POST' : 'GET', path: scenario.path, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const body = post ? batchBody(scenario.batch!, scenario.interpreted ?? 0, nonce, counter) : undefined;
      const sent = performance.now();
      const status = await send(body);
      latencies.push(performance.now() - sent);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests: latencies.length, seconds: elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses };
}

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  console.log(`${label}: ${round((performance.now() - start) / 1000)} s`);
  return result;
}

/** SEED_EVENTS events in one INSERT … SELECT generate_series, plus the registered agents. */
async function seed(pool: pg.Pool): Promise<void> {
  await timed(`seeded ${SEED_EVENTS.toLocaleString('en-US')} events`, () =>
    pool.query(
      `INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, run_id, payload, source, producer)
       SELECT gen_random_uuid(),
              (ARRAY['capability.invoked','handshake.started','handshake.completed','tct.issued','message.sent'])[1 + i % 5],
              now() - make_interval(secs => i * 2.5),
              'aid:pubkey:seed-agent-' || (i % 1000), 'aid:pubkey:seed-agent-' || ((i + 7) % 1000),
              's-seed-' || (i / 4), 'run-seed-' || (i / 1000),
              jsonb_build_object('capability', 'weather.read', 'seq', i, 'args', jsonb_build_object('city', 'Paris')),
              'playground', 'apikey:0000000000000000'
       FROM generate_series(1, $1::int) AS i`,
      [SEED_EVENTS],
    ),
  );
  await timed('vacuum analyze', () => pool.query('VACUUM ANALYZE audit_events'));
  await pool.query(
    `INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256)
     SELECT 'aid:pubkey:bench-agent-' || lpad(i::text, 4, '0') || '-' || repeat('x', 24), 'bench ' || i,
            'https://bench.example.com/aitp', '{}', repeat('0', 64)
     FROM generate_series(0, $1::int - 1) AS i`,
    [AGENTS],
  );
}

function report(scenario: Scenario, outcome: Outcome): void {
  const rps = outcome.requests / outcome.seconds;
  const events = scenario.batch === undefined ? '' : `${Math.round(rps * scenario.batch).toLocaleString('en-US')} events/s, `;
  const failures = Object.entries(outcome.statuses).filter(([status]) => status !== '200');
  console.log(
    `${scenario.name.padEnd(48)} ${events}${round(rps, 0)} req/s, p50 ${round(outcome.p50)} ms, p99 ${round(outcome.p99)} ms` +
      (failures.length > 0 ? `, NON-200: ${JSON.stringify(Object.fromEntries(failures))}` : ''),
  );
}

const server = await startBenchServer({}, PORT);
try {
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  await seed(pool);
  await pool.end();
  console.log(`${CONNECTIONS} connections, ${SECONDS} s per scenario, RATE_LIMIT_ENABLED=false, MAX_SSE_CONNECTIONS=10000`);
  const scenarios: Scenario[] = [
    { name: 'POST /api/events, batch 100', path: '/api/events', batch: 100 },
    { name: 'POST /api/events, batch 500', path: '/api/events', batch: 500 },
    { name: 'POST /api/events, batch 100, 10% projected', path: '/api/events', batch: 100, interpreted: 0.1 },
    { name: 'POST /api/events, batch 500, 10% projected', path: '/api/events', batch: 500, interpreted: 0.1 },
    { name: 'GET /api/events/history', path: '/api/events/history' },
    { name: 'GET /api/events/history?type=tct.issued', path: '/api/events/history?type=tct.issued' },
    { name: 'GET /api/events/history?aid=<seed agent>', path: `/api/events/history?aid=${encodeURIComponent('aid:pubkey:seed-agent-42')}` },
    { name: 'GET /api/events/history?session_id=<seed>', path: '/api/events/history?session_id=s-seed-4242' },
  ];
  await load(server.base, { name: 'warm-up', path: '/api/events', batch: 100 }, 3);
  for (const scenario of scenarios) report(scenario, await load(server.base, scenario, SECONDS));
  console.log(`server RSS ${server.rssMb()} MB`);
} finally {
  await server.stop();
}
