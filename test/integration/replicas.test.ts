import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRevocationList } from '../../src/aitp/index.js';
import { AUTH, TEST_API_KEY } from '../helpers/app.js';
import { startPrivatePostgres, stopAllPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { freePort, spawnServer, stopAll, waitForStatus, type ServerProcess } from '../helpers/process.js';
import { openSse } from '../helpers/sse.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/**
 * Two server processes on one PostgreSQL, nothing in front but their ports (OPERATIONS.md §18):
 * SSE fan-out, revocation list refresh, breaker reset, webhook single delivery and expiry
 * single-flight must hold across them.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const json = { ...AUTH, 'content-type': 'application/json' };

interface Replica {
  name: string;
  server: ServerProcess;
  base: string;
  /** When the process answered its first health check (its jobs were scheduled just before). */
  readyAt: number;
}

let db: PrivatePostgres;
let a: Replica;
let b: Replica;
const receivers: Receiver[] = [];
const dataDirs: string[] = [];
/** Agents inserted with a lapsed manifest right after boot, before either expiry job's first run. */
const lapsedAids = Array.from({ length: 5 }, () => `aid:pubkey:${randomBytes(32).toString('base64url')}`);

const EXPIRY_FIRST_RUN_MS = 10_000;

async function boot(name: string, shared: Record<string, string>): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-replica-'));
  dataDirs.push(dataDir);
  const port = await freePort();
  const server = spawnServer({ ...shared, DATA_DIR: dataDir, PORT: String(port), REPLICA_ID: `replica-${name}-${randomBytes(2).toString('hex')}` });
  const base = `http://127.0.0.1:${port}`;
  await waitForStatus(`${base}/api/health`, 200, 60_000);
  return { name, server, base, readyAt: Date.now() };
}

beforeAll(async () => {
  db = await startPrivatePostgres('aitp_replicas');
  const shared = {
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    API_KEYS: TEST_API_KEY,
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_ENABLED: 'false',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '500',
    // One failed attempt opens a breaker and ends its delivery; an open breaker stays open for
    // the whole file, so only an admin reset can close it (test c).
    WEBHOOK_BREAKER_FAILURE_THRESHOLD: '1',
    WEBHOOK_BREAKER_RESET_MS: '600000',
    WEBHOOK_RETRY_ATTEMPTS: '1',
    AGENT_EXPIRY_INTERVAL_MS: '10000',
  };
  // Booted together: both migrate under the lock, both expiry jobs first run ~10 s from now.
  [a, b] = await Promise.all([boot('a', shared), boot('b', shared)]);
  for (const aid of lapsedAids) {
    await db.query(
      `INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256, manifest_expires_at)
       VALUES ($1, 'lapsed', 'https://agent.example.com/aitp/handshake', '{}', repeat('0', 64), now() - interval '1 minute')`,
      [aid],
    );
  }
}, 120_000);

afterAll(async () => {
  await stopAll();
  for (const receiver of receivers) await receiver.close();
  await stopAllPrivatePostgres();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function post(replica: Replica, path: string, body: unknown): Promise<Response> {
  return fetch(`${replica.base}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
}

async function getJson<T>(replica: Replica, path: string): Promise<T> {
  const res = await fetch(`${replica.base}${path}`, { headers: AUTH });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

async function createWebhook(replica: Replica, url: string, events: string[]): Promise<string> {
  const res = await post(replica, '/api/webhooks', { url, events });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

interface BreakerSnapshot {
  state: 'closed' | 'open' | 'half_open';
  failures: number;
  openedAt: number | null;
}

/** This replica's count of webhook attempts answered 2xx (its own metrics, §15). */
async function successfulAttempts(replica: Replica): Promise<number> {
  const metrics = await (await fetch(`${replica.base}/api/metrics`, { headers: AUTH })).text();
  const match = /aitp_control_plane_webhook_delivery_attempts_total\{outcome="success"\} (\d+)/.exec(metrics);
  return Number(match?.[1] ?? 0);
}

describe('two replicas on one database (OPERATIONS.md §18)', () => {
  it('(a) an SSE subscriber on B receives events POSTed to A', async () => {
    const run = `replica-sse-${randomUUID()}`;
    const stream = await openSse(`${b.base}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    expect(stream.status).toBe(200);
    await stream.waitFor((c) => c.text().includes(': connected'));
    const events = Array.from({ length: 3 }, (_, i) => ({ id: randomUUID(), type: 'replica.sse', run_id: run, payload: { i } }));
    const started = Date.now();
    expect((await post(a, '/api/events', events)).status).toBe(200);
    await stream.waitFor((c) => c.events().length === 3, 5_000);
    const latency = Date.now() - started;
    expect(stream.events().map((e) => e.id)).toEqual(events.map((e) => e.id));
    stream.close();
    console.log(`[replicas a] 3 events POSTed to A reached B's SSE stream within ${latency} ms`);
  });

  it("(b) a revocation POSTed to A appears in B's signed revocation list within a few seconds", async () => {
    const jti = randomUUID();
    const aid = (await getJson<{ aid: string }>(a, '/api/health')).aid;
    const started = Date.now();
    expect((await post(a, '/api/revocation/entries', { jti, reason: 'replica drill' })).status).toBe(201);
    let body = '';
    const latency = await waitUntil(
      async () => {
        const res = await fetch(`${b.base}/.well-known/aitp-revocation-list`);
        body = await res.text();
        return res.status === 200 && body.includes(jti);
      },
      5_000,
      "jti in B's revocation list",
    );
    const verified = verifyRevocationList(body, aid, Math.floor(Date.now() / 1000));
    expect(verified.ok).toBe(true);
    if (verified.ok) expect(verified.revocationList.entries.map((e) => e.jti)).toContain(jti);
    console.log(`[replicas b] revocation POSTed to A listed by B ${latency} ms after the poll began (${Date.now() - started} ms after the POST)`);
  });

  it('(c) a breaker reset on A closes the open breaker of the same webhook on B', async () => {
    const failing = await startReceiver(() => ({ status: 500, body: 'no' }));
    receivers.push(failing);
    const webhookId = await createWebhook(a, `${failing.origin}/hook`, ['handshake.failed']);
    const breakerOn = (r: Replica) => getJson<BreakerSnapshot>(r, `/api/webhooks/${webhookId}/circuit-breaker`);
    // Events POSTed to B poke B's dispatcher first; each failed attempt opens the breaker of the
    // replica that made it. Keep sending until B's is open.
    let sent = 0;
    await waitUntil(
      async () => {
        if ((await breakerOn(b)).state === 'open') return true;
        sent++;
        expect((await post(b, '/api/events', [{ type: 'handshake.failed', session_id: `s-${randomUUID()}` }])).status).toBe(200);
        await sleep(300);
        return (await breakerOn(b)).state === 'open';
      },
      20_000,
      "B's breaker open",
    );
    const open = await breakerOn(b);
    expect(open.state).toBe('open');
    expect(open.failures).toBeGreaterThanOrEqual(1);
    expect(open.openedAt).not.toBeNull();

    const reset = await post(a, `/api/webhooks/${webhookId}/circuit-breaker/reset`, {});
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ state: 'closed', failures: 0 });
    const latency = await waitUntil(async () => (await breakerOn(b)).state === 'closed', 5_000, "B's breaker closed");
    expect(await breakerOn(b)).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, nextProbeAt: null });
    console.log(`[replicas c] B's breaker opened after ${sent} failing event(s); reset on A closed it on B within ${latency} ms`);
  });

  it('(d) with both replicas dispatching, the receiver gets each delivery exactly once', async () => {
    const receiver = await startReceiver(() => ({ status: 200, body: 'ok', delayMs: 20 }));
    receivers.push(receiver);
    const webhookId = await createWebhook(b, `${receiver.origin}/hook`, ['handshake.complete']);
    const [beforeA, beforeB] = await Promise.all([successfulAttempts(a), successfulAttempts(b)]);
    const batches = Array.from({ length: 8 }, () => Array.from({ length: 5 }, () => ({ id: randomUUID(), type: 'handshake.complete', session_id: `s-${randomUUID()}` })));
    const posted = batches.flat().map((e) => e.id);
    const answers = await Promise.all(batches.map((batch, i) => post(i % 2 === 0 ? a : b, '/api/events', batch)));
    expect(answers.map((r) => r.status)).toEqual(batches.map(() => 200));

    await waitUntil(() => receiver.received.length >= posted.length, 20_000, 'every delivery received');
    // A few more dispatcher polls on both replicas: nothing may arrive twice.
    await sleep(2_000);
    const deliveryIds = receiver.received.map((r) => String(r.headers['x-aitp-delivery']));
    const eventIds = receiver.received.map((r) => (JSON.parse(r.body) as { payload: { id: string } }).payload.id);
    expect(receiver.received).toHaveLength(posted.length);
    expect(new Set(deliveryIds).size).toBe(posted.length);
    expect([...eventIds].sort()).toEqual([...posted].sort());
    const rows = await db.query<{ status: string; attempts: number; n: string }>(
      'SELECT status, attempts, count(*) AS n FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY status, attempts',
      [webhookId],
    );
    expect(rows).toEqual([{ status: 'delivered', attempts: 1, n: String(posted.length) }]);

    const [afterA, afterB] = await Promise.all([successfulAttempts(a), successfulAttempts(b)]);
    expect(afterA - beforeA + (afterB - beforeB)).toBe(posted.length);
    console.log(`[replicas d] ${posted.length} deliveries, each received once; delivered by A ${afterA - beforeA}, by B ${afterB - beforeB}`);
  });

  it('(e) an agent whose manifest lapsed is expired once: exactly one agent.expired event', async () => {
    // Both expiry jobs run their first pass 10 s after boot (then every 10 s); wait until both
    // have had that pass, plus margin.
    const bothRan = Math.max(a.readyAt, b.readyAt) + EXPIRY_FIRST_RUN_MS + 3_000;
    await waitUntil(
      async () => {
        const rows = await db.query<{ n: string }>("SELECT count(*) AS n FROM agents WHERE aid = ANY($1) AND status = 'expired'", [lapsedAids]);
        return Number(rows[0]?.n) === lapsedAids.length;
      },
      30_000,
      'lapsed agents expired',
    );
    await sleep(Math.max(0, bothRan - Date.now()));
    const events = await db.query<{ aid_a: string; n: string }>(
      "SELECT aid_a, count(*) AS n FROM audit_events WHERE type = 'agent.expired' AND aid_a = ANY($1) GROUP BY aid_a",
      [lapsedAids],
    );
    expect(events.map((e) => e.aid_a).sort()).toEqual([...lapsedAids].sort());
    expect(events.every((e) => e.n === '1')).toBe(true);
    const logged = [a, b].map((r) => `${r.name}: ${r.server.stdout().split('\n').filter((l) => l.includes('"msg":"agents expired"')).length}`);
    console.log(`[replicas e] ${lapsedAids.length} lapsed agents, one agent.expired event each; "agents expired" log lines ${logged.join(', ')}`);
  }, 45_000);

  it('both replicas are still up and drain to exit 0', async () => {
    for (const r of [a, b]) {
      expect(r.server.child.exitCode).toBeNull();
      r.server.child.kill('SIGTERM');
    }
    expect(await Promise.all([a.server.exited, b.server.exited])).toEqual([0, 0]);
  });
});
