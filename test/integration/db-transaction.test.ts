import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/client.js';
import { inTransaction, type TxPool } from '../../src/db/transaction.js';
import { storeEvents } from '../../src/domains/events/index.js';
import { createTestDatabase } from '../helpers/database.js';

/**
 * inTransaction (src/db/transaction.ts) on a pool of ONE connection: a connection not given back
 * would make the next checkout wait, and its state (an open transaction) would reach the next
 * borrower.
 */
let url: string;
let pool: pg.Pool;
let observer: pg.Client;
const APP_NAME = `tx-test-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  url = await createTestDatabase();
  pool = createPool({ connectionString: url, max: 1, connectTimeoutMs: 2_000, statementTimeoutMs: 10_000, lockTimeoutMs: 0, queryTimeoutMs: 0, applicationName: APP_NAME });
  observer = new pg.Client({ connectionString: url });
  await observer.connect();
  await observer.query('CREATE TABLE tx_probe (id text PRIMARY KEY)');
});

afterAll(async () => {
  await observer.end();
  await pool.end();
});

const probeIds = async (): Promise<string[]> => (await observer.query<{ id: string }>('SELECT id FROM tx_probe ORDER BY id')).rows.map((r) => r.id);

/** Backends of the pool's connections that sit inside a transaction. */
const openTransactions = async (): Promise<number> =>
  (await observer.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [APP_NAME])).rows[0]!.n;

describe('inTransaction', () => {
  it('commits the named statements and the drizzle statements of one connection together', async () => {
    const id = randomUUID();
    const event = { id: randomUUID(), type: 'tx.test', ts: new Date(), aidA: null, aidB: null, sessionId: null, runId: id, grants: null, payload: {}, source: 't', producer: 'anonymous' };
    const seen = await inTransaction(pool, async (tx) => {
      // @ts-expect-error: no nested drizzle transaction on the bound instance (its COMMIT would end this one)
      expect(tx.db.transaction).toBeTypeOf('function');
      await tx.db.execute(sql`INSERT INTO tx_probe (id) VALUES (${id})`);
      const stored = await storeEvents(tx.client, [event]);
      const inside = await tx.client.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_probe WHERE id = $1', [id]);
      const prepared = await tx.client.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      expect(await probeIds()).not.toContain(id);
      return { stored, inside: inside.rows[0]!.n, names: prepared.rows.map((r) => r.name) };
    });
    expect(seen.inside).toBe(1);
    expect(seen.stored).toHaveLength(1);
    expect(seen.names).toContain('aitp_events_persist');
    expect(await probeIds()).toContain(id);
    const events = await observer.query('SELECT id FROM audit_events WHERE run_id = $1', [id]);
    expect(events.rows).toEqual([{ id: event.id }]);
    expect(pool.idleCount).toBe(1);
    expect(await openTransactions()).toBe(0);
  });

  it('rolls back and rethrows what the work threw, and gives the connection back clean', async () => {
    const id = randomUUID();
    const failure = new Error('work failed');
    await expect(
      inTransaction(pool, async (tx) => {
        await tx.db.execute(sql`INSERT INTO tx_probe (id) VALUES (${id})`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await probeIds()).not.toContain(id);
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
    expect(await openTransactions()).toBe(0);
    expect(await inTransaction(pool, async (tx) => (await tx.client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
  });

  it('rolls back when a statement fails and rethrows the database error', async () => {
    const id = randomUUID();
    await observer.query('INSERT INTO tx_probe (id) VALUES ($1)', [id]);
    const other = randomUUID();
    await expect(
      inTransaction(pool, async (tx) => {
        await tx.client.query('INSERT INTO tx_probe (id) VALUES ($1)', [other]);
        await tx.client.query('INSERT INTO tx_probe (id) VALUES ($1)', [id]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await probeIds()).not.toContain(other);
    expect(pool.idleCount).toBe(1);
    expect(await openTransactions()).toBe(0);
  });

  it('destroys the connection when ROLLBACK fails, still rethrowing the original error', async () => {
    const id = randomUUID();
    let pid = 0;
    // A connection whose ROLLBACK fails while its transaction is still open on the server.
    const failingRollback: TxPool = {
      connect: async () => {
        const client = await pool.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        const failing = (...args: unknown[]) => (args[0] === 'ROLLBACK' ? Promise.reject(new Error('rollback lost')) : query(...args));
        return Object.assign(client, { query: failing });
      },
    };
    const failure = new Error('work failed');
    await expect(
      inTransaction(failingRollback, async (tx) => {
        pid = (await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await tx.db.execute(sql`INSERT INTO tx_probe (id) VALUES (${id})`);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(pool.totalCount).toBe(0);
    await expect.poll(async () => (await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount, { timeout: 5_000 }).toBe(0);
    expect(await probeIds()).not.toContain(id);
    const next = await inTransaction(pool, async (tx) => (await tx.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    expect(next).not.toBe(pid);
  });
});
