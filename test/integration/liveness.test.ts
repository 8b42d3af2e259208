import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { startPrivatePostgres, stopAllPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';

/** Liveness without the database (Ruling 25, API.md §1): the test's own PostgreSQL frozen with SIGSTOP. */

let db: PrivatePostgres;
let app: FastifyInstance;

beforeAll(async () => {
  db = await startPrivatePostgres();
  ({ app } = await buildTestApp({ DATABASE_URL: db.url }));
}, 60_000);
afterAll(async () => {
  db.thaw();
  await app.close();
  await stopAllPrivatePostgres();
});

async function timed(url: string): Promise<{ status: number; body: unknown; ms: number }> {
  const started = performance.now();
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json(), ms: performance.now() - started };
}

describe('health and readiness while the database is frozen', () => {
  it('health answers 200 db:"error" within 1 s, readyz 503 db_unavailable, both back by themselves after SIGCONT', async () => {
    expect(await timed('/api/health')).toMatchObject({ status: 200, body: { ok: true, db: 'ok' } });
    expect((await timed('/api/readyz')).status).toBe(200);

    db.freeze();
    // Several probes at once share one bounded ping; each answer still comes within the bound.
    const answers = await Promise.all([timed('/api/health'), timed('/api/health'), timed('/api/health')]);
    for (const health of answers) {
      expect(health).toMatchObject({ status: 200, body: { ok: true, db: 'error' } });
      expect(health.ms).toBeLessThan(1_000);
    }
    // Once more: the timed-out connection was dropped and a fresh connect is bounded as well.
    const again = await timed('/api/health');
    expect(again).toMatchObject({ status: 200, body: { db: 'error' } });
    expect(again.ms).toBeLessThan(1_000);
    const ready = await timed('/api/readyz');
    expect(ready).toMatchObject({ status: 503, body: { ready: false, reason: 'db_unavailable', error: 'database unreachable' } });

    db.thaw();
    const deadline = Date.now() + 10_000;
    let readyz = await timed('/api/readyz');
    while (readyz.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      readyz = await timed('/api/readyz');
    }
    expect(readyz).toMatchObject({ status: 200, body: { ready: true } });
    expect(await timed('/api/health')).toMatchObject({ status: 200, body: { db: 'ok' } });
  }, 60_000);
});
