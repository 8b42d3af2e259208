import { createDatabase, createPool } from '../db/client.js';
import { resealAll } from '../domains/secrets/index.js';
import { createKeyring } from '../lib/sealing.js';
import { withDatabase } from './with-database.js';

/**
 * `npm run secrets:reseal`: re-seals every stored credential under SECRETS_KEY (opening with
 * SECRETS_KEY_PREVIOUS) and prints `{scanned, resealed, alreadyCurrent, failed, failedIds}`.
 * Exit 0 when nothing failed, 1 when a credential did not open (or on an error), 78 on config.
 * Safe beside running servers and safe to rerun.
 */
async function main(): Promise<number> {
  return withDatabase('reseal', async (config) => {
    const keyring = createKeyring(config.SECRETS_KEY!, config.SECRETS_KEY_PREVIOUS);
    const pool = createPool({
      connectionString: config.DATABASE_URL,
      max: 2,
      connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
      // A batch waits for rows a rotation holds; no client-side cut, as in migrations.
      lockTimeoutMs: 0,
      queryTimeoutMs: 0,
      applicationName: 'aitp-control-plane:secrets-reseal',
    });
    try {
      const report = await resealAll(createDatabase(pool), keyring);
      console.log(JSON.stringify(report));
      return report.failed > 0 ? 1 : 0;
    } finally {
      await pool.end();
    }
  });
}

process.exitCode = await main();
