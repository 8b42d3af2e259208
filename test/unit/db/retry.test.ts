import { describe, expect, it } from 'vitest';
import { isRetryableTxError, withTxRetry } from '../../../src/db/retry.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('transaction retry (API.md §3.1)', () => {
  it('recognizes deadlocks and serialization failures, also wrapped', () => {
    expect(isRetryableTxError(pgError('40P01'))).toBe(true);
    expect(isRetryableTxError(pgError('40001'))).toBe(true);
    expect(isRetryableTxError(new Error('wrapped', { cause: pgError('40P01') }))).toBe(true);
    expect(isRetryableTxError(pgError('23505'))).toBe(false);
    expect(isRetryableTxError('40P01')).toBe(false);
  });

  it('runs again up to three more times, then gives up', async () => {
    let calls = 0;
    await expect(withTxRetry(async () => ++calls < 3 ? Promise.reject(pgError('40P01')) : 'done')).resolves.toBe('done');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withTxRetry(async () => (++calls, Promise.reject(pgError('40001'))))).rejects.toThrow('pg 40001');
    expect(calls).toBe(4);
    calls = 0;
    await expect(withTxRetry(async () => (++calls, Promise.reject(pgError('23505'))))).rejects.toThrow('pg 23505');
    expect(calls).toBe(1);
  });
});
