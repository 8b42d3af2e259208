import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../../../src/domains/audit-log/entries.js';
import { RememberedLeaves, type RememberedEvent, type TransactionLeaves, type TransactionSummary } from '../../../src/domains/audit-log/remembered.js';

const hashOf = (seq: number): string => String.fromCharCode(seq % 256).repeat(32);
const idOf = (seq: number): string => `00000000-0000-4000-8000-${(seq % 2 ** 48).toString(16).padStart(12, '0')}`;
const event = (seq: number): RememberedEvent => ({ seq, id: idOf(seq), createdMs: 1_700_000_000_000 + seq, latin1Hash: hashOf(seq) });

/** The events a packed transaction holds, decoded from its entries. */
const entriesOf = (tx: TransactionLeaves) => Array.from({ length: tx.count }, (_, i) => decodeEntry(tx.entries, i));

/** The summary the database would give of exactly these seqs. */
function summary(txid: number, seqs: number[]): TransactionSummary {
  return { txid, count: seqs.length, minSeq: Math.min(...seqs), maxSeq: Math.max(...seqs), seqSum: seqs.reduce((a, b) => a + BigInt(b), 0n).toString() };
}

describe('RememberedLeaves', () => {
  it('gives a transaction back in seq order, with its entries and hashes packed, once', () => {
    const memory = new RememberedLeaves(100);
    memory.remember(7, [event(12), event(10), event(11)]);
    expect(memory.size).toBe(3);
    const tx = memory.take(summary(7, [10, 11, 12]))!;
    expect(tx).toMatchObject(summary(7, [10, 11, 12]));
    expect(entriesOf(tx)).toEqual([10, 11, 12].map((seq) => ({ kind: 'event', id: idOf(seq), createdMs: 1_700_000_000_000 + seq })));
    expect(tx.hashes.toString('latin1')).toBe(hashOf(10) + hashOf(11) + hashOf(12));
    expect(memory.size).toBe(0);
    expect(memory.take(summary(7, [10, 11, 12]))).toBeUndefined();
  });

  it('joins the statements of one transaction', () => {
    const memory = new RememberedLeaves(100);
    memory.remember(7, [event(20), event(21)]);
    memory.remember(8, [event(22)]);
    memory.remember(7, [event(24), event(23)]);
    expect(memory.size).toBe(5);
    const tx = memory.take(summary(7, [20, 21, 23, 24]))!;
    expect(entriesOf(tx).map((e) => e!.id)).toEqual([20, 21, 23, 24].map(idOf));
    expect(tx.hashes.toString('latin1')).toBe([20, 21, 23, 24].map(hashOf).join(''));
    expect(memory.take(summary(8, [22]))!.count).toBe(1);
  });

  it('forgets a transaction whose later statement took seqs below an earlier one (it is read back)', () => {
    const memory = new RememberedLeaves(100);
    memory.remember(7, [event(20), event(21)]);
    memory.remember(7, [event(19), event(23)]);
    expect(memory.size).toBe(0);
    expect(memory.matches(summary(7, [19, 20, 21, 23]))).toBe(false);
  });

  it('refuses, and forgets, a transaction the database no longer holds as remembered', () => {
    const memory = new RememberedLeaves(100);
    for (const [txid, seqs] of [[1, [5, 6, 7]], [2, [8, 9, 10]], [3, [11, 13]], [4, [14, 15]]] as const) memory.remember(txid, seqs.map(event));
    expect(memory.matches(summary(1, [5, 7]))).toBe(false); // a row deleted
    expect(memory.take(summary(1, [5, 7]))).toBeUndefined();
    expect(memory.take(summary(1, [5, 6, 7]))).toBeUndefined(); // forgotten on the mismatch
    expect(memory.take({ ...summary(2, [8, 9, 10]), seqSum: '28' })).toBeUndefined(); // same bounds and count, another row
    expect(memory.take(summary(3, [11, 12, 13]))).toBeUndefined(); // a row added
    expect(memory.matches(summary(4, [14, 15]))).toBe(true);
    expect(memory.size).toBe(2);
  });

  it('sums seqs exactly beyond 2^53', () => {
    const memory = new RememberedLeaves(100);
    const big = [2 ** 52 + 1, 2 ** 52 + 3, 2 ** 52 + 5];
    memory.remember(9, big.map(event));
    expect(memory.matches(summary(9, big))).toBe(true);
    expect(memory.matches({ ...summary(9, big), seqSum: (3n * 2n ** 52n + 8n).toString() })).toBe(false);
  });

  it('keeps at most its capacity in leaves, dropping the oldest transactions first', () => {
    const memory = new RememberedLeaves(5);
    memory.remember(1, [event(1), event(2)]);
    memory.remember(2, [event(3), event(4)]);
    memory.remember(3, [event(5), event(6)]);
    expect(memory.size).toBe(4);
    expect(memory.take(summary(1, [1, 2]))).toBeUndefined();
    expect(memory.take(summary(3, [5, 6]))).toBeDefined();
  });

  it('forgets transactions below a txid, and one on request', () => {
    const memory = new RememberedLeaves(100);
    for (const txid of [4, 2, 9, 6]) memory.remember(txid, [event(txid * 10)]);
    memory.forgetBelow(6);
    expect(memory.size).toBe(2);
    memory.forget(9);
    expect(memory.matches(summary(9, [90]))).toBe(false);
    expect(memory.take(summary(6, [60]))).toBeDefined();
    expect(memory.size).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RememberedLeaves(0)).toThrow(RangeError);
    expect(() => new RememberedLeaves(1.5)).toThrow(RangeError);
  });
});
