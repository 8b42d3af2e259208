import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** The LISTEN/NOTIFY channels (DATA-MODEL.md §NOTIFY); src/plugins/notify.ts listens on each. */
export const CHANNELS = ['aitp_events', 'aitp_control'] as const;
export type Channel = (typeof CHANNELS)[number];

type Executor = Pick<Database, 'execute'>;

/**
 * pg_notify inside the caller's transaction: Postgres delivers it at commit only, so no
 * receiver ever acts on uncommitted state (DATA-MODEL.md §NOTIFY, contract Ruling 7).
 */
export async function notifyInTx(tx: Executor, channel: Channel, payload: Record<string, unknown>): Promise<void> {
  await tx.execute(sql`SELECT pg_notify(${channel}, ${JSON.stringify({ v: 1, ...payload })})`);
}
