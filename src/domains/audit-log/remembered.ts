import { HASH_SIZE } from '../../lib/tlog/index.js';

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

/** One transaction's events in seq order, hashes packed 32 bytes each (remembered, or read back). */
export interface TransactionLeaves {
  txid: number;
  seqs: number[];
  ids: string[];
  createdMs: number[];
  hashes: Buffer;
}

/**
 * The leaf hashes of events this process stored, kept per writing transaction from commit until
 * the integrator takes them: it then reads one summary row per transaction (count, seq bounds
 * and sum) instead of every event's position, and reads back no record. A transaction is taken
 * only when its summary equals what was remembered; anything else (rows deleted or added since,
 * a batch JCS could not hash) is read back from the table. Bounded by `capacity` leaves, oldest
 * transaction dropped first: a replica that never runs the integrator keeps at most that much,
 * and a transaction that is gone is read back.
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
    const before = this.#transactions.get(txid);
    const all = before === undefined ? events : [...unpack(before), ...events];
    if (before !== undefined) this.#forget(before);
    const tx = pack(txid, all);
    this.#transactions.set(txid, tx);
    this.#leaves += tx.seqs.length;
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
    this.#leaves -= tx.seqs.length;
  }
}

function sameRows(tx: TransactionLeaves, summary: TransactionSummary): boolean {
  const n = tx.seqs.length;
  return n === summary.count && tx.seqs[0] === summary.minSeq && tx.seqs[n - 1] === summary.maxSeq && seqSum(tx.seqs) === summary.seqSum;
}

/** The exact sum of the seqs as decimal text (a Number while it stays exact, else BigInt). */
function seqSum(seqs: readonly number[]): string {
  let sum = 0;
  for (const seq of seqs) sum += seq;
  if (Number.isSafeInteger(sum)) return String(sum);
  let big = 0n;
  for (const seq of seqs) big += BigInt(seq);
  return big.toString();
}

function pack(txid: number, events: readonly RememberedEvent[]): TransactionLeaves {
  const ordered = isSorted(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
  const hashes = Buffer.allocUnsafe(ordered.length * HASH_SIZE);
  const seqs: number[] = [];
  const ids: string[] = [];
  const createdMs: number[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const e = ordered[i]!;
    seqs.push(e.seq);
    ids.push(e.id);
    createdMs.push(e.createdMs);
    hashes.write(e.latin1Hash, i * HASH_SIZE, HASH_SIZE, 'latin1');
  }
  return { txid, seqs, ids, createdMs, hashes };
}

function unpack(tx: TransactionLeaves): RememberedEvent[] {
  return tx.seqs.map((seq, i) => ({
    seq,
    id: tx.ids[i]!,
    createdMs: tx.createdMs[i]!,
    latin1Hash: tx.hashes.toString('latin1', i * HASH_SIZE, (i + 1) * HASH_SIZE),
  }));
}

function isSorted(events: readonly RememberedEvent[]): boolean {
  for (let i = 1; i < events.length; i++) if (events[i - 1]!.seq >= events[i]!.seq) return false;
  return true;
}
