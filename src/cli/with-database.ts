import { resolve } from 'node:path';
import { resolveDevSecrets } from '../boot/dev-secrets.js';
import { isProduction, loadProcessConfig, type Config } from '../config/index.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded.js';

/**
 * The frame of a command that needs the database: load the configuration (exit 78 on errors),
 * resolve development secrets, start the embedded PostgreSQL when no DATABASE_URL is set outside
 * production, run, and stop the embedded database last. An error prints `<label> failed: …`, exit 1.
 */
export async function withDatabase(label: string, run: (config: Config & { DATABASE_URL: string }) => Promise<number>): Promise<number> {
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
    if (config.DATABASE_URL === undefined) throw new Error('DATABASE_URL is not set');
    return await run({ ...config, DATABASE_URL: config.DATABASE_URL });
  } catch (err) {
    console.error(`${label} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await embedded?.stop();
  }
}
