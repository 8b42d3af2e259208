import { HASH_SIZE } from '../../lib/tlog/index.js';
import { encodeEntry, ENTRY_BYTES } from './entries.js';

/** One stored event as the pipeline committed it: where it sits and its leaf hash. */
export interface RememberedEvent {
  seq: number;
  id: string;
  createdMs: number;
  /** The RFC 9162 leaf hash as the 32-character latin1 string the digest returns. */
  latin1Hash: string;
}

/** What the database holds of one transaction's events (the integrator's summary of it). */
export interface TransactionSummary {
  txid: number;
  count: number;
  minSeq: number;
  maxSeq: number;
  /** sum(seq) as Postgres' numeric text: exact at any size. */
  seqSum: string;
}

/**
 * One transaction's events in seq order, packed: their entries (ENTRY_BYTES each, entries.ts)
 * and leaf hashes (32 bytes each), with the summary of their seqs. No object per event: what
 * waits for the integrator is a few buffers per transaction, whatever its size.
 */
export interface TransactionLeaves extends TransactionSummary {
  entries: Buffer;
  hashes: Buffer;
}

/**
 * The leaf hashes of events this process stored, kept per writing transaction from commit until
 * the integrator takes them: it then reads one summary row per transaction (count, seq bounds
 * and sum) instead of every event's position, and reads back no record. A transaction is taken
 * only when its summary equals what was remembered; anything else (rows deleted or added since,
 * a batch JCS could not hash, a later statement's seqs below an earlier one's) is read back from
 * the table. Bounded by `capacity` leaves, oldest transaction dropped first: a replica that never
 * runs the integrator keeps at most that much, and a transaction that is gone is read back.
 */
export class RememberedLeaves {
  readonly #transactions = new Map<number, TransactionLeaves>();
  #leaves = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  /** Leaves remembered and not yet taken. */
  get size(): number {
    return this.#leaves;
  }

  /** Adds the events one statement of transaction `txid` stored (a transaction may add several). */
  remember(txid: number, events: readonly RememberedEvent[]): void {
    if (events.length === 0) return;
    const added = pack(txid, events);
    const before = this.#transactions.get(txid);
    if (before !== undefined) {
      this.#forget(before);
      // Statements of one transaction take ever higher seqs; anything else is read back.
      if (added.minSeq <= before.maxSeq) return;
    }
    const tx = before === undefined ? added : join(before, added);
    this.#transactions.set(txid, tx);
    this.#leaves += tx.count;
    for (const oldest of this.#transactions.values()) {
      if (this.#leaves <= this.capacity) break;
      this.#forget(oldest);
    }
  }

  /** Forgets a transaction whose events cannot all be hashed: the integrator reads it back. */
  forget(txid: number): void {
    const tx = this.#transactions.get(txid);
    if (tx !== undefined) this.#forget(tx);
  }

  /** True when the transaction is remembered exactly as summarized (take() would return it). */
  matches(summary: TransactionSummary): boolean {
    const tx = this.#transactions.get(summary.txid);
    return tx !== undefined && sameRows(tx, summary);
  }

  /**
   * The transaction's leaves when they are exactly the rows summarized, forgetting them either
   * way: a transaction that no longer matches is read back, and never taken later.
   */
  take(summary: TransactionSummary): TransactionLeaves | undefined {
    const tx = this.#transactions.get(summary.txid);
    if (tx === undefined) return undefined;
    this.#forget(tx);
    return sameRows(tx, summary) ? tx : undefined;
  }

  /** Forgets every transaction below `txid`: the log has them (read back, or another replica's run). */
  forgetBelow(txid: number): void {
    for (const tx of this.#transactions.values()) if (tx.txid < txid) this.#forget(tx);
  }

  #forget(tx: TransactionLeaves): void {
    this.#transactions.delete(tx.txid);
    this.#leaves -= tx.count;
  }
}

function sameRows(tx: TransactionSummary, summary: TransactionSummary): boolean {
  return tx.count === summary.count && tx.minSeq === summary.minSeq && tx.maxSeq === summary.maxSeq && tx.seqSum === summary.seqSum;
}

/** a + b as exact decimal text (a Number while it stays exact, else BigInt). */
function addExact(a: string, b: string): string {
  const sum = Number(a) + Number(b);
  return Number.isSafeInteger(sum) ? String(sum) : (BigInt(a) + BigInt(b)).toString();
}

/** The events of one statement, in seq order, packed with the summary of their seqs. */
function pack(txid: number, events: readonly RememberedEvent[]): TransactionLeaves {
  const ordered = isSorted(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
  const entries = Buffer.allocUnsafe(ordered.length * ENTRY_BYTES);
  const hashes = Buffer.allocUnsafe(ordered.length * HASH_SIZE);
  let sum = 0;
  for (let i = 0; i < ordered.length; i++) {
    const e = ordered[i]!;
    encodeEntry('event', e.id, e.createdMs, entries, i * ENTRY_BYTES);
    hashes.write(e.latin1Hash, i * HASH_SIZE, HASH_SIZE, 'latin1');
    sum += e.seq;
  }
  return {
    txid,
    count: ordered.length,
    minSeq: ordered[0]!.seq,
    maxSeq: ordered[ordered.length - 1]!.seq,
    // Exact while a Number holds it (seqs are positive, so an inexact sum is never safe), else BigInt.
    seqSum: Number.isSafeInteger(sum) ? String(sum) : ordered.reduce((total, e) => total + BigInt(e.seq), 0n).toString(),
    entries,
    hashes,
  };
}

/** Two statements of one transaction, the second's seqs all above the first's. */
function join(first: TransactionLeaves, second: TransactionLeaves): TransactionLeaves {
  return {
    txid: first.txid,
    count: first.count + second.count,
    minSeq: first.minSeq,
    maxSeq: second.maxSeq,
    seqSum: addExact(first.seqSum, second.seqSum),
    entries: Buffer.concat([first.entries, second.entries]),
    hashes: Buffer.concat([first.hashes, second.hashes]),
  };
}

function isSorted(events: readonly RememberedEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i - 1]!.seq >= events[i]!.seq) return false;
  return true;
}
