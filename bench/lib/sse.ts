import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { inTransaction } from '../../src/db/transaction.js';
import { persistEvents } from '../../src/domains/event-pipeline/index.js';
import { BENCH_API_KEY } from './server.js';
import { percentile } from './stats.js';

const EVENTS = 100;

interface Subscriber {
  received: Float64Array;
  done: Promise<void>;
  close(): void;
}

function subscribe(base: string, run: string, total: number): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const received = new Float64Array(total).fill(Number.NaN);
    let count = 0;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((r) => (finish = r));
    const req = http.get(`${base}/api/events/stream?run_id=${run}&backlog=0`, { agent: false, headers: { authorization: `Bearer ${BENCH_API_KEY}` } }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const m = /"i":(\d+)/.exec(frame);
          if (m) {
            received[Number(m[1])] = Date.now();
            if (++count === total) finish();
          }
        }
      });
      resolve({ received, done, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

export interface FanOut {
  subscribers: number;
  delivered: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * SSE fan-out (issues #7, #11): `n` subscribers on one run_id, then EVENTS events written 10 ms
 * apart, one transaction each, through the real write path; latency = client receive time −
 * commit start.
 */
export async function sseFanOut(base: string, databaseUrl: string, n: number): Promise<FanOut> {
  const run = `bench-${randomUUID()}`;
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < n; i += 100) {
    subscribers.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => subscribe(base, run, EVENTS)))));
  }
  await new Promise((r) => setTimeout(r, 500));
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const sentAt = new Float64Array(EVENTS);
  for (let i = 0; i < EVENTS; i++) {
    sentAt[i] = Date.now();
    await inTransaction(pool, async (tx) => {
      await persistEvents(tx, [
        { id: randomUUID(), type: 'bench.event', ts: new Date(), aidA: null, aidB: null, sessionId: null, runId: run, grants: null, payload: { i }, source: 'bench', producer: 'anonymous' },
      ]);
    });
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.race([Promise.all(subscribers.map((s) => s.done)), new Promise((r) => setTimeout(r, 30_000))]);
  const latencies: number[] = [];
  let missing = 0;
  for (const s of subscribers) {
    for (let i = 0; i < EVENTS; i++) {
      if (Number.isNaN(s.received[i]!)) missing++;
      else latencies.push(s.received[i]! - sentAt[i]!);
    }
    s.close();
  }
  await pool.end();
  return { subscribers: n, delivered: latencies.length, missing, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) };
}
