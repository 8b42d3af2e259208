/** SQLSTATEs after which the whole transaction may simply run again: deadlock, serialization failure. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/** True for a deadlock or serialization failure, also when wrapped (drizzle puts the driver error in `cause`). */
export function isRetryableTxError(err: unknown): boolean {
  for (let current = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_SQLSTATES.has(code)) return true;
  }
  return false;
}

/**
 * Runs `transaction` and runs it again (up to `retries` more times, short jittered pause) when
 * Postgres aborted it for a deadlock or serialization failure (API.md §3.1). Each attempt must
 * be a complete transaction whose effects vanish on failure.
 */
export async function withTxRetry<T>(transaction: () => Promise<T>, retries = 3): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      if (attempt >= retries || !isRetryableTxError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1) + Math.random() * 10));
    }
  }
}
