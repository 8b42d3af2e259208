/**
 * Tells a database that cannot be reached (503 DB_UNAVAILABLE, Retry-After 5) from a query bug
 * (500). Codes: node socket errors, SQLSTATE class 08 (connection exception), 57P01–57P03
 * (admin/crash shutdown, cannot connect now), 53300 (too many connections); plus the pg pool's
 * checkout timeout and "connection terminated" messages, which carry no code.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

export function isConnectivityError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'))) return true;
  const message = err.message;
  if (/timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message)) {
    return true;
  }
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isConnectivityError(cause);
}

/**
 * A statement the database did not finish in time: statement_timeout or a cancel (57014),
 * lock_timeout (55P03), idle-in-transaction timeout (25P03), or pg's client-side query_timeout
 * ("Query read timeout", no code). The database is too slow or frozen, not the request wrong.
 */
const TIMEOUT_SQLSTATES = new Set(['57014', '55P03', '25P03']);

export function isTimeoutError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TIMEOUT_SQLSTATES.has(code)) return true;
  if (/^Query read timeout$/.test(err.message)) return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isTimeoutError(cause);
}

/** 503 DB_UNAVAILABLE (+ Retry-After): unreachable, lost, or too slow to answer in time. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isConnectivityError(err) || isTimeoutError(err);
}
