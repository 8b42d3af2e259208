// Retention sweep throughput and its effect on ingest latency.
// Run: node --import tsx bench/retention.bench.ts   (or `npm run bench retention`)
//
// 1,000,000 audit_events older than AUDIT_EVENTS_TTL_DAYS are seeded with one INSERT … SELECT
// generate_series, then:
//   1. baseline: POST /api/events under load, no sweep;
//   2. the app's own sweep (app.retention.run(): chunks of 1000, 50 ms apart, advisory lock) with
//      the same POST load running until it finishes: rows deleted per second, ingest p50/p99;
//   3. baseline again, after the sweep;
//   4. the same 1,000,000 rows swept with the pause set to 0 and no load: raw chunk throughput.
// The app runs in this process on a real port with RATE_LIMIT_ENABLED=false,
// MAX_SSE_CONNECTIONS=10000 (Ruling 13) and RETENTION_BATCH_LIMIT=1000000; the load comes from a
// child process over keep-alive connections so it does not share the server's event loop.
// Env: DATABASE_URL (an empty or migrated database; else an embedded PostgreSQL in a temp dir),
// BENCH_SECONDS (baseline length, default 10), BENCH_CONNECTIONS (default 8), BENCH_BATCH
// (events per POST, default 10), BENCH_SEED_EVENTS (default 1000000), BENCH_SKIP_RAW=1 (skip 4).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { percentile } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 10);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 1_000_000);
const API_KEY = 'bench-api-key-0123456789abcdef';

interface LoadOutcome {
  requests: number;
  non200: Record<string, number>;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

// ---------------------------------------------------------------- load generator (child process)

function batchBody(nonce: string, counter: { n: number }): string {
  const events: string[] = [];
  for (let i = 0; i < BATCH; i++) {
    const n = counter.n++;
    events.push(
      `{"type":"capability.invoked","ts":${1716638400000 + n},"aid_a":"aid:pubkey:bench-${n % 50}","session_id":"s-${nonce}-${n >> 2}",` +
        `"payload":{"capability":"weather.read","seq":${n},"nonce":"${nonce}"}}`,
    );
  }
  return `{"events":[${events.join(',')}]}`;
}

/** POSTs until `stop` resolves (or `seconds` pass), `connections` requests in flight. */
async function postLoad(port: number, connections: number, stop: Promise<void>): Promise<LoadOutcome> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const nonce = randomBytes(6).toString('hex');
  const counter = { n: 0 };
  const latencies: number[] = [];
  const non200: Record<string, number> = {};
  let stopped = false;
  void stop.then(() => (stopped = true));
  const post = (body: string): Promise<number> =>
    new Promise((resolve) => {
      const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const req = http.request({ host: '127.0.0.1', port, agent, method: 'POST', path: '/api/events', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
      req.end(body);
    });
  const start = performance.now();
  const worker = async () => {
    while (!stopped) {
      const body = batchBody(nonce, counter);
      const sent = performance.now();
      const status = await post(body);
      latencies.push(performance.now() - sent);
      if (status !== 200) non200[status] = (non200[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  const seconds = (performance.now() - start) / 1000;
  return { requests: latencies.length, non200, seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) };
}

const LOAD_FLAG = '--load';
const isLoadProcess = process.argv[2] === LOAD_FLAG;

if (isLoadProcess) {
  const { port, seconds } = JSON.parse(process.argv[3]!) as { port: number; seconds: number | null };
  // Runs for `seconds`, or until the parent sends "stop".
  const stop = new Promise<void>((resolve) => {
    process.on('message', () => resolve());
    if (seconds !== null) setTimeout(resolve, seconds * 1000);
  });
  process.send!(await postLoad(port, CONNECTIONS, stop));
  process.disconnect();
}

// ---------------------------------------------------------------- driver

/** Starts the load child; `finish()` stops it (if open-ended) and returns its figures. */
function startLoad(port: number, seconds: number | null) {
  const child = fork(fileURLToPath(import.meta.url), [LOAD_FLAG, JSON.stringify({ port, seconds })], { execArgv: ['--import', 'tsx'] });
  const outcome = once(child, 'message').then(([message]) => message as LoadOutcome);
  return {
    async finish(): Promise<LoadOutcome> {
      if (seconds === null) child.send('stop');
      const result = await outcome;
      if (child.exitCode === null) await once(child, 'exit');
      return result;
    },
  };
}

async function database(): Promise<{ url: string; stop: () => Promise<void> }> {
  const existing = process.env['DATABASE_URL'];
  if (existing) return { url: existing, stop: async () => undefined };
  const { startEmbeddedPostgres } = await import('../src/db/embedded.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-bench-retention-'));
  const server = await startEmbeddedPostgres({ dataDir, port: 30000 + Math.floor(Math.random() * 20000), database: 'aitp_bench' });
  return {
    url: server.url,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SEED_EVENTS events created 100 days ago (AUDIT_EVENTS_TTL_DAYS is 90), realistic columns and indexes. */
async function seedOldEvents(pool: pg.Pool): Promise<number> {
  const start = performance.now();
  await pool.query(
    `INSERT INTO audit_events (id, type, ts, aid_a, aid_b, session_id, run_id, payload, source, producer, created_at)
     SELECT gen_random_uuid(),
            (ARRAY['capability.invoked','handshake.started','handshake.completed','tct.issued','message.sent'])[1 + i % 5],
            now() - interval '100 days' - make_interval(secs => i), 'aid:pubkey:seed-' || (i % 1000), 'aid:pubkey:seed-' || ((i + 7) % 1000),
            's-seed-' || (i / 4), 'run-seed-' || (i / 1000), jsonb_build_object('capability', 'weather.read', 'seq', i),
            'bench', 'apikey:0000000000000000', now() - interval '100 days' - make_interval(secs => i)
     FROM generate_series(1, $1::int) AS i`,
    [SEED_EVENTS],
  );
  // Settle the seed's I/O (dirty buffers, visibility map) so it does not land on the baseline.
  await pool.query('VACUUM ANALYZE audit_events');
  await pool.query('CHECKPOINT');
  return (performance.now() - start) / 1000;
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function loadLine(label: string, o: LoadOutcome): string {
  const rps = o.requests / o.seconds;
  const bad = Object.keys(o.non200).length > 0 ? `, non-200 ${JSON.stringify(o.non200)}` : '';
  return `${label.padEnd(34)} ${fmt(rps, 0)} req/s (${fmt(rps * BATCH, 0)} events/s), p50 ${fmt(o.p50)} ms, p99 ${fmt(o.p99)} ms, max ${fmt(o.max)} ms${bad}`;
}

async function main(): Promise<void> {
  const db = await database();
  const { buildApp } = await import('../src/app.js');
  const { defaultConfig } = await import('../src/config/index.js');
  const config = defaultConfig({
    DATABASE_URL: db.url,
    API_KEYS: [API_KEY],
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_ENABLED: false,
    MAX_SSE_CONNECTIONS: 10_000,
    RETENTION_BATCH_LIMIT: 1_000_000,
    RETENTION_SWEEP_BUDGET_MS: 3_600_000,
    LOG_LEVEL: 'silent',
  });
  const app = await buildApp({ config, logger: pino({ level: 'silent' }), startJobs: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  console.log(
    `node ${process.version}; ${CONNECTIONS} connections x POST /api/events of ${BATCH} events; RATE_LIMIT_ENABLED=false, ` +
      `MAX_SSE_CONNECTIONS=10000, RETENTION_BATCH_LIMIT=1000000, RETENTION_SWEEP_BUDGET_MS=3600000`,
  );

  console.log(`seeded ${fmt(SEED_EVENTS, 0)} old events in ${fmt(await seedOldEvents(pool))} s`);
  await startLoad(port, 3).finish(); // warm-up
  console.log(loadLine('POST /api/events, no sweep', await startLoad(port, SECONDS).finish()));

  const load = startLoad(port, null);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await app.retention.run();
  const during = await load.finish();
  const deleted = result.deleted.audit_events ?? 0;
  console.log(loadLine('POST /api/events, during sweep', during));
  console.log(
    `sweep (50 ms pauses, under load): ${result.status}, ${fmt(deleted, 0)} rows in ${fmt(result.durationMs / 1000)} s = ` +
      `${fmt(deleted / (result.durationMs / 1000), 0)} rows/s`,
  );
  console.log(loadLine('POST /api/events, after sweep', await startLoad(port, SECONDS).finish()));

  if (process.env['BENCH_SKIP_RAW'] !== '1') {
    await seedOldEvents(pool);
    const { createRetentionSweep } = await import('../src/domains/retention/sweep.js');
    const { retentionSettings } = await import('../src/domains/retention/index.js');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const raw = createRetentionSweep({
      settings: retentionSettings(config),
      pauseMs: 0,
      connect: async () => {
        const client = await pool.connect();
        return { db: drizzle(client), release: (destroy) => client.release(destroy) };
      },
    });
    const rawResult = await raw.run();
    const rawDeleted = rawResult.deleted.audit_events ?? 0;
    console.log(
      `sweep (no pause, no load):        ${rawResult.status}, ${fmt(rawDeleted, 0)} rows in ${fmt(rawResult.durationMs / 1000)} s = ` +
        `${fmt(rawDeleted / (rawResult.durationMs / 1000), 0)} rows/s`,
    );
  }

  await pool.end();
  await app.close();
  await db.stop();
}

if (!isLoadProcess) await main();
