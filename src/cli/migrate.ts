import { resolve } from 'node:path';
import pg from 'pg';
import { resolveDevSecrets } from '../boot/dev-secrets.js';
import { isProduction, loadProcessConfig } from '../config/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';
import { applyMigrations, countPendingMigrations } from '../db/migrate.js';
import { createKeyring } from '../lib/sealing.js';

/** `npm run db:migrate` (OPERATIONS.md §4): apply pending migrations under the lock, then exit. */
async function main(): Promise<number> {
  const loaded = loadProcessConfig();
  if (!loaded.ok) {
    for (const error of loaded.errors) console.error(`config error: ${error}`);
    return 78;
  }
  let config = loaded.config;
  let embedded: EmbeddedPostgres | undefined;
  try {
    if (!isProduction(config)) config = resolveDevSecrets(config).config;
    if (config.DATABASE_URL === undefined && !isProduction(config)) {
      embedded = await startEmbeddedPostgres({ dataDir: resolve(config.DATA_DIR), port: config.EMBEDDED_PG_PORT, database: 'aitp_control_plane' });
      config = { ...config, DATABASE_URL: embedded.url };
    }
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
  } catch (err) {
    console.error(`migration failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await embedded?.stop();
  }
}

process.exitCode = await main();
