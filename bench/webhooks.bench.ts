// Webhook delivery throughput to a local receiver. Run: node --import tsx bench/webhooks.bench.ts
// Embedded PostgreSQL, the real app (jobs off, dispatcher driven by runOnce), a local HTTP
// receiver answering 200 at once; RATE_LIMIT_ENABLED=false (Ruling 13).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config/index.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { StoredEvent } from '../src/domains/events/types.js';
import { DISPATCHER_JOB } from '../src/domains/webhooks/dispatcher.job.js';
import { enqueueDeliveries } from '../src/domains/webhooks/outbox.js';

const API_KEY = 'bench-api-key-0123456789abcdef';
const DELIVERIES = 4000;
const BATCH = 500;

function event(): StoredEvent {
  return {
    id: randomUUID(),
    type: 'handshake.complete',
    ts: new Date(),
    aidA: 'aid:pubkey:kM0f6XUEiv6_SKwS1xiM_rana3jEjx7PO0u7R14NLlM',
    aidB: 'aid:pubkey:R6TKgamchzYduyfO-gFbRM-ryuhK5odCdDvdQ8Dy0sQ',
    sessionId: `s-${randomUUID()}`,
    runId: 'run-7',
    grants: ['weather.read'],
    payload: { boundary: 'cross_org' },
    source: 'playground',
    producer: 'apikey:0123456789abcdef',
    seq: 0,
    createdAt: new Date(),
    txid: 0,
  };
}

async function startReceiver(): Promise<{ origin: string; count: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    count: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function scenario(databaseUrl: string, webhooks: number, concurrency: number): Promise<void> {
  const config = defaultConfig({
    DATABASE_URL: databaseUrl,
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    API_KEYS: [API_KEY],
    LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'aitp-bench-data-')),
    RATE_LIMIT_ENABLED: false,
    WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
    WEBHOOK_CONCURRENCY: concurrency,
    // Dispatcher throughput at this concurrency: one webhook may use every slot here.
    WEBHOOK_CONCURRENCY_PER_TARGET: concurrency,
  });
  const app = await buildApp({ config, logger: pino({ level: 'silent' }), startJobs: false });
  await app.ready();
  const receiver = await startReceiver();
  try {
    await app.pool.query('TRUNCATE webhooks CASCADE');
    for (let i = 0; i < webhooks; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/webhooks',
        headers: { authorization: `Bearer ${API_KEY}` },
        payload: { url: `${receiver.origin}/hook/${i}` },
      });
      if (res.statusCode !== 201) throw new Error(`create webhook: ${res.statusCode} ${res.body}`);
    }
    const events = DELIVERIES / webhooks;
    const enqueueStart = process.hrtime.bigint();
    for (let done = 0; done < events; done += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, events - done) }, event);
      await app.db.transaction((tx) => enqueueDeliveries(tx, batch));
    }
    const enqueueSecs = Number(process.hrtime.bigint() - enqueueStart) / 1e9;
    const start = process.hrtime.bigint();
    await app.jobs.runOnce(DISPATCHER_JOB);
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    if (receiver.count() !== DELIVERIES) throw new Error(`receiver got ${receiver.count()} of ${DELIVERIES}`);
    console.log(
      `${String(webhooks).padStart(2)} webhook(s) × ${String(events).padStart(4)} events, WEBHOOK_CONCURRENCY=${String(concurrency).padStart(2)}: ` +
        `${DELIVERIES} deliveries in ${secs.toFixed(2)} s = ${Math.round(DELIVERIES / secs)} deliveries/s ` +
        `(enqueue ${Math.round(DELIVERIES / enqueueSecs)} rows/s)`,
    );
  } finally {
    await receiver.close();
    await app.close();
    rmSync(config.DATA_DIR, { recursive: true, force: true });
  }
}

/** A random port may be taken; try a few. */
async function startPostgres(dataDir: string): Promise<Awaited<ReturnType<typeof startEmbeddedPostgres>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmbeddedPostgres({ dataDir, port: 20000 + Math.floor(Math.random() * 20000), database: 'aitp_bench' });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'aitp-bench-pg-'));
const pg = await startPostgres(dataDir);
try {
  console.log(`webhook delivery throughput (node ${process.version}, local receiver, RATE_LIMIT_ENABLED=false)`);
  for (const concurrency of [8, 32]) {
    await scenario(pg.url, 1, concurrency);
    await scenario(pg.url, 10, concurrency);
  }
} finally {
  await pg.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
