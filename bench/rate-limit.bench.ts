// Rate limiter cost: the in-process check (ns/op) and the request overhead of the edge plugins.
// Run: npm run bench rate-limit (builds dist/ first; or `npm run build` and then
// node --import tsx bench/rate-limit.bench.ts).
//
// Part 1 times TokenBucketLimiter and client-IP resolution in this process. Part 2 starts the real
// server (bench/lib/server.ts: its own process pinned to CPU 0, embedded PostgreSQL) and loads
// GET /api/aitp/handshake/x (public-ip bucket, 501, no DB work) over keep-alive connections from
// this process, once with RATE_LIMIT_ENABLED=false (contract Ruling 13's setting) and once with
// it on (capacity high enough that nothing is denied), plus once with every request denied (429).
// Env: BENCH_SECONDS (per HTTP run, default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS
// (default 16), BENCH_PORT (first of three, default 4700).
import { loadavg } from 'node:os';
import { Pool } from 'undici';
import { ipRateLimitKey, resolveClientIp } from '../src/lib/client-ip.js';
import { TokenBucketLimiter, bucketKey, type BucketSpec } from '../src/lib/token-bucket.js';
import { startBenchServer } from './lib/server.js';
import { percentile } from './lib/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const PORT = Number(process.env['BENCH_PORT'] ?? 4700);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const BATCH = 1000;
const PATH = '/api/aitp/handshake/x';

// ---------------------------------------------------------------- part 1: in-process check

/** ns per call of `operation(i)`, timed in batches for at least a second after a warm-up. */
function nsPerOp(operation: (i: number) => unknown): number {
  let i = 0;
  for (let w = 0; w < 200_000; w++) operation(i++);
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 1_000_000_000n) {
    for (let b = 0; b < BATCH; b++) operation(i++);
    calls += BATCH;
    elapsed = process.hrtime.bigint() - start;
  }
  return Number(elapsed) / calls;
}

function microRows(): Array<[string, string]> {
  const spec: BucketSpec = { name: 'public-ip', capacity: 1_000_000, windowMs: 60_000 };
  const now = Date.now();
  const rows: Array<[string, string]> = [];
  const add = (name: string, ns: number) => rows.push([name, `${ns.toFixed(0)} ns/op`]);

  add('bucketKey (sha256, first 16 bytes)', nsPerOp((i) => bucketKey('public-ip', `198.51.100.${i & 255}`)));
  const hot = new TokenBucketLimiter(100_000);
  add('take, one hot key', nsPerOp((i) => hot.take(spec, '198.51.100.7', now + (i >> 10))));
  const warm = new TokenBucketLimiter(100_000);
  const keys = Array.from({ length: 100_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  add('take, 100k distinct keys, all tracked', nsPerOp((i) => warm.take(spec, keys[i % keys.length]!, now)));
  const churn = new TokenBucketLimiter(100_000);
  add('take, every key new (insert + LRU evict)', nsPerOp((i) => churn.take(spec, `k${i}`, now)));
  const full = new TokenBucketLimiter(100_000);
  for (const key of keys) full.take(spec, key, now);
  const sweepStart = process.hrtime.bigint();
  const dropped = full.sweep(now + 60_000);
  rows.push([`sweep of ${dropped.toLocaleString('en-US')} refilled buckets`, `${(Number(process.hrtime.bigint() - sweepStart) / 1e6).toFixed(1)} ms`]);

  const plain = { header: undefined, hops: 0 };
  add('resolveClientIp, IPv4 socket', nsPerOp(() => resolveClientIp(plain, {}, '203.0.113.9')));
  const proxied = { header: undefined, hops: 1 };
  const xff = { 'x-forwarded-for': '192.0.2.1, 198.51.100.23' };
  add('resolveClientIp, hops=1, 2-entry XFF', nsPerOp(() => resolveClientIp(proxied, xff, '10.0.0.1')));
  add('resolveClientIp + /64 key, IPv6 socket', nsPerOp(() => ipRateLimitKey(resolveClientIp(plain, {}, '2001:db8:1:2::abcd'))));
  return rows;
}

// ---------------------------------------------------------------- part 2: HTTP overhead

interface Outcome {
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
}

async function load(base: string, path: string, seconds: number): Promise<Outcome> {
  const pool = new Pool(base, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const res = await pool.request({ path, method: 'GET' });
      await res.body.dump();
      latencies.push(performance.now() - sent);
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return { rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), statuses };
}

const SCENARIOS: Array<{ name: string; env: Record<string, string> }> = [
  { name: 'RATE_LIMIT_ENABLED=false', env: { RATE_LIMIT_ENABLED: 'false' } },
  { name: 'RATE_LIMIT_ENABLED=true, all allowed', env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PUBLIC_PER_IP_MIN: '1000000' } },
  { name: 'RATE_LIMIT_ENABLED=true, all denied (429)', env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PUBLIC_PER_IP_MIN: '1' } },
];

/**
 * All three servers run at once (each idle while another is loaded) and are loaded in turns,
 * ROUNDS times, so drift in background load hits every scenario alike; the median round counts.
 */
async function httpRows(): Promise<Array<[string, string]>> {
  const servers = [];
  for (const [index, scenario] of SCENARIOS.entries()) servers.push(await startBenchServer(scenario.env, PORT + index));
  try {
    for (const server of servers) await load(server.base, PATH, 3); // warm-up (JIT, connections)
    const outcomes: Outcome[][] = SCENARIOS.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, server] of servers.entries()) outcomes[index]!.push(await load(server.base, PATH, SECONDS));
    }
    return SCENARIOS.map((scenario, index) => {
      const runs = outcomes[index]!.sort((a, b) => a.rps - b.rps);
      const median = runs[Math.floor(runs.length / 2)]!;
      const all = runs.map((r) => r.rps.toFixed(0)).join('/');
      return [
        `GET ${PATH}, ${scenario.name}`,
        `${median.rps.toFixed(0)} req/s (runs ${all}), p50 ${median.p50.toFixed(2)} ms, p99 ${median.p99.toFixed(2)} ms, ${JSON.stringify(median.statuses)}`,
      ];
    });
  } finally {
    for (const server of servers) await server.stop();
  }
}

function print(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\n${title}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
}

console.log(`node ${process.version}; HTTP: ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${SECONDS} s, servers pinned to CPU 0`);
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
print('limiter check (in process)', microRows());
print('request overhead (real server)', await httpRows());
console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
