// What Postgres alone can store on one core: the production insert statement (storeEvents, the
// one statement a plain POST /api/events batch runs), driven straight from this process with no
// HTTP server and no validation on the clock, against a Postgres pinned to CPU 0 that already
// holds 1,000,000 events. The ingest targets of issue #11 (35,000 events/s in batches of 100,
// 50,000 in batches of 500, server included) are measured against this ceiling.
// Env: BENCH_SECONDS (default 5), BENCH_RUNS (default 3), BENCH_SEED_EVENTS (default 1000000).
import { rmSync } from 'node:fs';
import pg from 'pg';
import { createPool } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { normalizeBatch } from '../src/domains/events/normalize.js';
import { storeEvents } from '../src/domains/events/repository.js';
import type { NewEvent } from '../src/domains/events/types.js';
import { batchMaker } from './lib/batches.js';
import { seedDiscoveryAgents, seedEvents } from './lib/seed.js';
import { cpuSecondsOfTree, startBenchPostgres } from './lib/server.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SEED_EVENTS = Number(process.env['BENCH_SEED_EVENTS'] ?? 1_000_000);
/** As many concurrent batches as the HTTP ingest bench keeps in flight. */
const WRITERS = 8;
/** Batches prepared before the clock starts: enough for any run at well above the targets. */
const PREPARED_EVENTS = 600_000;

const { pg: server, dir, postmaster } = await startBenchPostgres(5900);
const pool = createPool({ connectionString: server.url, max: WRITERS, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, lockTimeoutMs: 0, queryTimeoutMs: 0, applicationName: 'ingest-floor' });
try {
  await applyMigrations(pool);
  const admin = new pg.Pool({ connectionString: server.url, max: 1 });
  await seedDiscoveryAgents(admin, 0, 1_000);
  await seedEvents(admin, SEED_EVENTS);
  const aids = (await admin.query<{ aid: string }>('SELECT aid FROM agents ORDER BY aid LIMIT 50')).rows.map((r) => r.aid);
  // The seed's dirty pages are flushed now, not by a checkpoint in the middle of a run.
  await admin.query('CHECKPOINT');
  await admin.end();

  console.log(`Postgres alone on CPU 0, ${WRITERS} writers on CPU 1, ${SEED_EVENTS.toLocaleString('en-US')} events stored first; median of ${RUNS} × ${SECONDS} s after a warm-up\n`);
  console.log('| batch | events/s | Postgres CPU per event |\n|---|---|---|');
  for (const size of [100, 500]) {
    const body = batchMaker(size, aids);
    const batches: NewEvent[][] = [];
    for (let n = 0; n < PREPARED_EVENTS; n += size) batches.push(normalizeBatch(JSON.parse(body()), 'apikey:0000000000000000', Date.now()).events);
    let next = 0;
    const run = async () => {
      const cpu0 = cpuSecondsOfTree(postmaster);
      const start = performance.now();
      const end = start + SECONDS * 1000;
      let stored = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (performance.now() < end && next < batches.length) {
            const batch = await storeEvents(pool, batches[next++]!);
            stored += batch.length; // not `stored += await …`: that reads `stored` before the await
          }
        }),
      );
      const seconds = (performance.now() - start) / 1000;
      return { rate: stored / seconds, cpuPerEvent: (cpuSecondsOfTree(postmaster) - cpu0) / stored };
    };
    await run();
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await run());
    results.sort((a, b) => a.rate - b.rate);
    const median = results[Math.floor(results.length / 2)]!;
    console.log(`| ${size} | ${Math.round(median.rate).toLocaleString('en-US')} | ${Math.round(median.cpuPerEvent * 1e6)} µs |`);
  }
} finally {
  await pool.end();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
