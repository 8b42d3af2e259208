import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import type { Clock } from '../../src/lib/clock.js';
import { createTestDatabase } from './database.js';

/** The API key every test app accepts (`Authorization: Bearer TEST_API_KEY`). */
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_API_KEY}` } as const;

/** A development config for tests: real secrets, one API key, its own temp DATA_DIR. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return defaultConfig({
    CP_AID_SEED_HEX: randomBytes(32).toString('hex'),
    ENROLLMENT_SECRET: randomBytes(32).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('hex'),
    API_KEYS: [TEST_API_KEY],
    LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(join(inject('dataRoot'), 'app-data-')),
    REPLICA_ID: `test-${randomBytes(3).toString('hex')}`,
    ...overrides,
  });
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
}

/**
 * The real app (buildApp) over a fresh migrated database, auth and limits on, jobs off unless
 * asked. Pass `databaseUrl` to put two apps on one database (multi-replica tests).
 */
export async function buildTestApp(
  overrides: Partial<Config> = {},
  opts: { startJobs?: boolean; logger?: pino.Logger; clock?: Clock; beforeReady?: (app: FastifyInstance) => Promise<void> } = {},
): Promise<TestApp> {
  const DATABASE_URL = overrides.DATABASE_URL ?? (await createTestDatabase());
  const config = testConfig({ ...overrides, DATABASE_URL });
  const logger = opts.logger ?? pino({ level: 'silent' });
  const app = await buildApp({ config, logger, startJobs: opts.startJobs ?? false, clock: opts.clock });
  await opts.beforeReady?.(app);
  await app.ready();
  return { app, config };
}
