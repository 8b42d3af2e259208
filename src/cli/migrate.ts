import pg from 'pg';
import { applyMigrations, countPendingMigrations } from '../db/migrate.js';
import { createKeyring } from '../lib/sealing.js';
import { withDatabase } from './with-database.js';

/** `npm run db:migrate` (OPERATIONS.md §4): apply pending migrations under the lock, then exit. */
async function main(): Promise<number> {
  return withDatabase('migration', async (config) => {
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 1 });
    try {
      const pending = await countPendingMigrations(pool);
      const keyring = config.SECRETS_KEY === undefined ? undefined : createKeyring(config.SECRETS_KEY, config.SECRETS_KEY_PREVIOUS);
      await applyMigrations(pool, { keyring });
      console.log(JSON.stringify({ msg: 'migrations applied', applied: pending }));
    } finally {
      await pool.end();
    }
    return 0;
  });
}

process.exitCode = await main();
