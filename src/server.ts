import { resolve } from 'node:path';
import { buildApp } from './app.js';
import { resolveDevSecrets } from './boot/dev-secrets.js';
import { startDevDatabase } from './boot/embedded-database.js';
import { installShutdown } from './boot/shutdown.js';
import { isProduction, loadProcessConfig, type Config } from './config/index.js';
import type { EmbeddedPostgres } from './db/embedded.js';
import { shutdownTelemetry } from './instrumentation.js';
import { atStep, bootFailureLine, describeCause } from './lib/boot-step.js';
import { createLogger } from './lib/logger.js';

const EXIT_CONFIG = 78;

/** The process: config → logger → dev secrets → embedded Postgres → app → signals → listen (§5). */
async function main(): Promise<void> {
  const loaded = loadProcessConfig();
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`config error: ${error}\n`);
    process.exit(EXIT_CONFIG);
  }
  let config: Config = loaded.config;
  const log = createLogger({ level: config.LOG_LEVEL, replica: config.REPLICA_ID });
  for (const warning of loaded.warnings) log.warn({ warning }, 'config warning');

  let embedded: EmbeddedPostgres | undefined;
  try {
    if (!isProduction(config)) {
      const dev = await atStep('config', () => resolveDevSecrets(config));
      config = dev.config;
      for (const name of dev.generated) log.warn({ warning: `${name}: generated into ${resolve(config.DATA_DIR)}` }, 'config warning');
      if (config.DATABASE_URL === undefined) {
        const dataDir = resolve(config.DATA_DIR);
        const started = await atStep('embedded database', () =>
          startDevDatabase(
            { dataDir, port: config.EMBEDDED_PG_PORT, database: 'aitp_control_plane', onLog: (line) => log.debug({ pg: line.trim() }, 'embedded postgres') },
            (failure, nextPort) => log.warn({ cause: describeCause(failure), nextPort }, 'embedded postgres could not start, retrying on a free port'),
          ),
        );
        embedded = started;
        config = { ...config, DATABASE_URL: started.url };
        log.info({ dataDir, port: started.port }, 'embedded postgres started');
      }
    }
    const app = await buildApp({ config, logger: log });
    installShutdown({
      app,
      log,
      drainDelayMs: config.DRAIN_DELAY_MS,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      afterClose: async () => {
        await embedded?.stop();
        await shutdownTelemetry();
      },
      // A second signal exits at once; the embedded database still gets its stop signal
      // (sent synchronously) so it never outlives us.
      exit: (code) => {
        void embedded?.stop();
        process.exit(code);
      },
    });
    await atStep('listen', () => app.listen({ port: config.PORT, host: config.HOST }));
    log.info(
      { aid: app.identity.aid, port: config.PORT, mode: isProduction(config) ? 'production' : 'development', replica: config.REPLICA_ID },
      'listening',
    );
  } catch (err) {
    // One plain line naming the step and the cause, whatever the log level; the JSON log keeps the stack.
    process.stderr.write(`${bootFailureLine(err, 'app')}\n`);
    log.fatal({ err }, 'boot failed');
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main();
