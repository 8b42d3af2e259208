import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { TextRow } from '../../db/raw-query.js';
import { HASH_SIZE } from '../../lib/tlog/index.js';
import type { AuditRow } from '../admin-audit/index.js';
import { encodeEntry, ENTRY_BYTES } from './entries.js';
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
  return withAdmin(client, state, last.txid, transactions, last.maxSeq);
}

/** Read-back rows (in txid, seq order) hashed and grouped by transaction, in the remembered shape. */
function byTransaction(rows: readonly TextRow[]): TransactionLeaves[] {
  const entries = Buffer.allocUnsafe(rows.length * ENTRY_BYTES);
  const hashes = Buffer.allocUnsafe(rows.length * HASH_SIZE);
  rows.forEach((row, i) => {
    const leaf = eventLeafRef(row);
    encodeEntry('event', leaf.id, leaf.createdMs, entries, i * ENTRY_BYTES);
    hashes.set(leaf.hash, i * HASH_SIZE);
  });
  const transactions: TransactionLeaves[] = [];
  for (let start = 0; start < rows.length;) {
    const txid = Number(rows[start]!['txid']);
    let end = start;
    let seqSum = 0n;
    for (; end < rows.length && Number(rows[end]!['txid']) === txid; end++) seqSum += BigInt(rows[end]!['seq']!);
    transactions.push({
      txid,
      count: end - start,
      minSeq: Number(rows[start]!['seq']),
      maxSeq: Number(rows[end - 1]!['seq']),
      seqSum: seqSum.toString(),
      entries: entries.subarray(start * ENTRY_BYTES, end * ENTRY_BYTES),
      hashes: hashes.subarray(start * HASH_SIZE, end * HASH_SIZE),
    });
    start = end;
  }
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

/** A page's leaves in log order, packed: which record each is (entries.ts) and its hash. */
export interface PageLeaves {
  count: number;
  entries: Buffer;
  hashes: Buffer;
}

/** Admin and event leaves in (txid, kind, key) order: within one txid admin rows first. */
function mergeByTxid(admin: readonly AuditRow[], transactions: readonly TransactionLeaves[]): PageLeaves {
  let total = admin.length;
  for (const tx of transactions) total += tx.count;
  const page: PageLeaves = { count: 0, entries: Buffer.allocUnsafe(total * ENTRY_BYTES), hashes: Buffer.allocUnsafe(total * HASH_SIZE) };
  let a = 0;
  for (const tx of transactions) {
    while (a < admin.length && admin[a]!.txid <= tx.txid) pushAdmin(page, admin[a++]!);
    tx.entries.copy(page.entries, page.count * ENTRY_BYTES);
    tx.hashes.copy(page.hashes, page.count * HASH_SIZE);
    page.count += tx.count;
  }
  while (a < admin.length) pushAdmin(page, admin[a++]!);
  return page;
}

function pushAdmin(page: PageLeaves, row: AuditRow): void {
  const leaf = adminLeaf(row);
  encodeEntry('admin', leaf.id, leaf.createdMs, page.entries, page.count * ENTRY_BYTES);
  page.hashes.set(leaf.hash, page.count * HASH_SIZE);
  page.count++;
}
