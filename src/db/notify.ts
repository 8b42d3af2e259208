import { sql } from 'drizzle-orm';
import type { Channel } from '../plugins/notify.js';
import type { Database } from './client.js';

type Executor = Pick<Database, 'execute'>;

/**
 * pg_notify inside the caller's transaction: Postgres delivers it at commit only, so no
 * receiver ever acts on uncommitted state (DATA-MODEL.md §NOTIFY, contract Ruling 7).
 */
export async function notifyInTx(tx: Executor, channel: Channel, payload: Record<string, unknown>): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${channel}, ${JSON.stringify({ v: 1, ...payload })})`);
}
