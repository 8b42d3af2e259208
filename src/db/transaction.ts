import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database } from './client.js';
import * as schema from './schema/index.js';

/**
 * drizzle bound to one connection. Without `transaction`: on a client (not a pool) drizzle sends
 * its BEGIN and COMMIT on that same connection, so a nested call would commit the outer
 * transaction halfway through its work.
 */
export type TxDatabase = Omit<Database, 'transaction'>;

/** Where transactions get their connection. */
export type TxPool = Pick<pg.Pool, 'connect'>;

/** What runs statements: a pool or one checked-out connection. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * Where a unit of work runs its statements: named statements on `client`
 * (`client.query({ name, text, values })`) and query-builder statements on `db`, both on the same
 * connection inside a transaction.
 */
export interface Executor {
  readonly client: Queryable;
  readonly db: TxDatabase;
  /** True inside inTransaction: every statement on one connection, committed together. */
  readonly inTransaction: boolean;
}

/** An open transaction (inTransaction). */
export interface Tx extends Executor {
  readonly inTransaction: true;
}

/** The pool as an Executor, for work that is a single statement (atomic on its own): no transaction. */
export function onPool(pool: Queryable, db: TxDatabase): Executor {
  return { client: pool, db, inTransaction: false };
}

/**
 * One drizzle instance per pooled connection, made on its first transaction: building one reads
 * the whole relational schema, too much to repeat per transaction. It holds no state between
 * statements, so reusing it across transactions on that connection is safe.
 */
const boundDatabases = new WeakMap<pg.PoolClient, TxDatabase>();

function boundDatabase(client: pg.PoolClient): TxDatabase {
  let db = boundDatabases.get(client);
  if (db === undefined) {
    db = drizzle(client, { schema });
    boundDatabases.set(client, db);
  }
  return db;
}

/**
 * Runs `work` in a transaction on one pooled connection: BEGIN, `work`, COMMIT; ROLLBACK and the
 * error rethrown when anything throws (COMMIT included). The connection always goes back to the
 * pool, and is destroyed instead when ROLLBACK itself failed, since its state is then unknown
 * (an open transaction would hold its locks and poison the next borrower). NOTIFYs queued in
 * `work` are delivered at COMMIT only. Pair with withTxRetry for deadlocks and serialization
 * failures: each call is a complete attempt.
 */
export async function inTransaction<T>(pool: TxPool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work({ client, db: boundDatabase(client), inTransaction: true });
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackErr) {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error('ROLLBACK failed');
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
