import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', replica: 'r-test' }, stream), lines };
}

// Each case makes the webhook insert wait behind `LOCK TABLE webhooks` held by another
// connection; which bound ends the wait differs: the server's statement_timeout (57014), its
// lock_timeout (55P03), or our client-side query timeout (a frozen database looks the same).
const CASES: Array<{ name: string; overrides: Partial<Config> }> = [
  { name: 'statement timeout', overrides: { DB_STATEMENT_TIMEOUT_MS: 1000, DB_LOCK_TIMEOUT_MS: 0, DB_QUERY_TIMEOUT_MS: 60_000 } },
  { name: 'lock timeout', overrides: { DB_STATEMENT_TIMEOUT_MS: 60_000, DB_LOCK_TIMEOUT_MS: 500, DB_QUERY_TIMEOUT_MS: 60_000 } },
  { name: 'client-side query timeout', overrides: { DB_STATEMENT_TIMEOUT_MS: 60_000, DB_LOCK_TIMEOUT_MS: 0, DB_QUERY_TIMEOUT_MS: 1000 } },
];

describe('database timeouts answer 503 DB_UNAVAILABLE and log no parameters', () => {
  for (const { name, overrides } of CASES) {
    it(`webhook create behind a table lock: ${name}`, async () => {
      const DATABASE_URL = await createTestDatabase();
      const { logger, lines } = captureLogger();
      const { app } = await buildTestApp({ ...overrides, DATABASE_URL, WEBHOOK_ALLOW_PRIVATE_TARGETS: true }, { logger });
      const locker = new pg.Client({ connectionString: DATABASE_URL });
      await locker.connect();
      const secret = `whsec-${randomUUID()}`;
      const url = `http://127.0.0.1:9/hook/${randomUUID()}`;
      const idempotencyKey = `idem-${randomUUID()}`;
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE webhooks IN ACCESS EXCLUSIVE MODE');
        const res = await app.inject({
          method: 'POST',
          url: '/api/webhooks',
          headers: { ...AUTH, 'idempotency-key': idempotencyKey },
          payload: { url, secret, events: ['handshake.completed'] },
        });
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual({ error: expect.any(String), code: 'DB_UNAVAILABLE' });
        expect(res.headers['retry-after']).toBe('5');
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
        await app.close();
      }
      const text = lines.join('\n');
      expect(text).toContain('database unavailable');
      for (const value of [secret, url, idempotencyKey, 'handshake.completed', 'params:']) expect(text).not.toContain(value);
    });
  }
});
