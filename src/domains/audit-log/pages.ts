import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { TextRow } from '../../db/raw-query.js';
import { HASH_SIZE } from '../../lib/tlog/index.js';
import type { AuditRow } from '../admin-audit/index.js';
import type { EntryRef } from './entries.js';
import { adminLeaf, eventLeafRef } from './leaves.js';
import type { RememberedLeaves, TransactionLeaves } from './remembered.js';
import { pendingAdmin, pendingEventRecords, pendingTransactions, type LogState } from './repository.js';

// The pages the integrator appends, in commit-safe order (txid, then admin rows before events,
// then seq): remembered transactions from memory, every other one read back from the table.

/**
 * Events per page: a page of remembered transactions covers up to PAGE_ROWS events in one
 * summary query (plus one for admin rows); a run takes pages until it reaches the horizon or
 * the cap, and writes its tiles and bundles once at the end.
 */
const PAGE_ROWS = 5_000;
/**
 * Whole event records read back (and hashed) per page, for transactions not remembered (a
 * restart, another replica's events, rows written in SQL): only a slice of them is alive at once.
 */
const READ_BACK_ROWS = 500;

/**
 * The leaves of the next page, moving `state` past them, with every transaction's admin rows
 * before its events. Remembered transactions come from memory; the others are read back, in
 * pages of whole records up to the next remembered one. A read-back page that stops inside a
 * transaction leaves `partialSeq` set, so one huge transaction is taken in parts.
 */
export async function nextPage(client: pg.PoolClient, state: LogState, horizon: number, remembered: RememberedLeaves): Promise<PageLeaves> {
  let readUpTo = horizon;
  if (state.partialSeq === null) {
    const page = await rememberedPage(client, state.watermark, horizon, remembered);
    if (page.readBackUpTo === undefined) return withAdmin(client, state, page.upTo, page.transactions);
    readUpTo = page.readBackUpTo;
  }
  const rows = await pendingEventRecords(client, {
    fromTxid: state.watermark,
    afterSeq: state.partialSeq ?? Number.MIN_SAFE_INTEGER,
    horizon: readUpTo,
    limit: READ_BACK_ROWS,
  });
  const transactions = byTransaction(rows);
  if (rows.length < READ_BACK_ROWS) return withAdmin(client, state, readUpTo, transactions);
  const last = transactions[transactions.length - 1]!;
  return withAdmin(client, state, last.txid, transactions, last.seqs[last.seqs.length - 1]!);
}

/** Read-back rows (in txid, seq order) hashed and grouped by transaction, in the remembered shape. */
function byTransaction(rows: readonly TextRow[]): TransactionLeaves[] {
  const transactions: TransactionLeaves[] = [];
  const hashes = Buffer.allocUnsafe(rows.length * HASH_SIZE);
  let current: TransactionLeaves | undefined;
  let start = 0;
  rows.forEach((row, i) => {
    const txid = Number(row['txid']);
    if (current?.txid !== txid) {
      if (current !== undefined) current.hashes = hashes.subarray(start * HASH_SIZE, i * HASH_SIZE);
      current = { txid, seqs: [], ids: [], createdMs: [], hashes };
      transactions.push(current);
      start = i;
    }
    const leaf = eventLeafRef(row);
    current.seqs.push(Number(row['seq']));
    current.ids.push(leaf.id);
    current.createdMs.push(leaf.createdMs);
    hashes.set(leaf.hash, i * HASH_SIZE);
  });
  if (current !== undefined) current.hashes = hashes.subarray(start * HASH_SIZE, rows.length * HASH_SIZE);
  return transactions;
}

/**
 * The remembered transactions at the front of what waits from txid `from` (one summary query
 * over up to PAGE_ROWS events): their events and the txid all of them are below (`upTo`). When
 * the first waiting transaction is not remembered, nothing is taken and `readBackUpTo` says how
 * far to read back: to the next remembered transaction, or the horizon.
 */
async function rememberedPage(
  client: pg.PoolClient,
  from: number,
  horizon: number,
  remembered: RememberedLeaves,
): Promise<{ transactions: TransactionLeaves[]; upTo: number; readBackUpTo?: number }> {
  const page = await pendingTransactions(client, { fromTxid: from, horizon, limit: PAGE_ROWS });
  // A full page may cut its last transaction short: it waits for the next page.
  const whole = page.rows < PAGE_ROWS ? page.transactions : page.transactions.slice(0, -1);
  const transactions: TransactionLeaves[] = [];
  for (const summary of whole) {
    const tx = remembered.take(summary);
    if (tx === undefined) {
      if (transactions.length > 0) return { transactions, upTo: summary.txid };
      const next = whole.find((s) => s.txid > summary.txid && remembered.matches(s));
      return { transactions, upTo: from, readBackUpTo: next?.txid ?? horizon };
    }
    transactions.push(tx);
  }
  if (whole.length < page.transactions.length) {
    // Nothing whole on this page: one transaction of PAGE_ROWS events or more, read back in parts.
    if (whole.length === 0) return { transactions, upTo: from, readBackUpTo: horizon };
    return { transactions, upTo: whole[whole.length - 1]!.txid + 1 };
  }
  return { transactions, upTo: horizon };
}

/**
 * `events` with the admin rows not taken yet merged in, moving `state` to its new position:
 * every transaction below `upTo` is in (or, with `partialSeq`, txid `upTo` up to that seq).
 * Admin rows of the watermark's transaction are taken unless its events began.
 */
async function withAdmin(
  client: pg.PoolClient,
  state: LogState,
  upTo: number,
  transactions: readonly TransactionLeaves[],
  partialSeq: number | null = null,
): Promise<PageLeaves> {
  const adminFrom = state.partialSeq === null ? state.watermark : state.watermark + 1;
  const adminTo = partialSeq === null ? upTo : upTo + 1;
  const admin = adminFrom < adminTo ? await pendingAdmin(drizzle(client), adminFrom, adminTo) : [];
  state.watermark = upTo;
  state.partialSeq = partialSeq;
  return mergeByTxid(admin, transactions);
}

/** A page's leaves in log order: which record each is, and their hashes packed 32 bytes each. */
export interface PageLeaves {
  entries: EntryRef[];
  hashes: Buffer;
}

/** Admin and event leaves in (txid, kind, key) order: within one txid admin rows first. */
function mergeByTxid(admin: readonly AuditRow[], transactions: readonly TransactionLeaves[]): PageLeaves {
  let count = admin.length;
  for (const tx of transactions) count += tx.ids.length;
  const page: PageLeaves = { entries: [], hashes: Buffer.allocUnsafe(count * HASH_SIZE) };
  let a = 0;
  for (const tx of transactions) {
    while (a < admin.length && admin[a]!.txid <= tx.txid) pushAdmin(page, admin[a++]!);
    tx.hashes.copy(page.hashes, page.entries.length * HASH_SIZE);
    for (let i = 0; i < tx.ids.length; i++) page.entries.push({ kind: 'event', id: tx.ids[i]!, createdMs: tx.createdMs[i]! });
  }
  while (a < admin.length) pushAdmin(page, admin[a++]!);
  return page;
}

function pushAdmin(page: PageLeaves, row: AuditRow): void {
  const leaf = adminLeaf(row);
  page.hashes.set(leaf.hash, page.entries.length * HASH_SIZE);
  page.entries.push(leaf);
}
