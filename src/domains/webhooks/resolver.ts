import { lookup } from 'node:dns/promises';
import type { Resolver } from './url-guard.js';

const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * `dns.lookup` with every address (OPERATIONS.md §12.1 step 5), bounded to 5 s; a timeout
 * rejects with code `ETIMEOUT` so the attempt is a retryable `dns: ETIMEOUT`.
 */
export function systemResolver(timeoutMs = RESOLVE_TIMEOUT_MS): Resolver {
  return async (hostname) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('dns lookup timed out'), { code: 'ETIMEOUT' })), timeoutMs);
    });
    try {
      const found = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
      return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
    } finally {
      clearTimeout(timer);
    }
  };
}
