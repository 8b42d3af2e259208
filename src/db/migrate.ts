import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodePgSession } from 'drizzle-orm/node-postgres';
import { readMigrationFiles, type MigrationMeta } from 'drizzle-orm/migrator';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type { Keyring } from '../lib/sealing.js';
import { dataSteps } from './data-steps.js';
import { MIGRATION_LOCK_KEY } from './locks.js';

/** drizzle/ at the package root; the same relative path from src/db and dist/db. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface MigrateOptions {
  /** Seals plain credentials left by a release from before sealing (src/db/data-steps.ts). */
  keyring?: Keyring;
}

/** Journal "when" of each tag: drizzle's migrator knows migrations only by that number. */
function journalWhen(): Map<string, number> {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string; when: number }> };
  return new Map(journal.entries.map((entry) => [entry.tag, entry.when]));
}

async function lastApplied(client: pg.PoolClient): Promise<number> {
  const table = await client.query<{ exists: boolean }>("SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists");
  if (!table.rows[0]?.exists) return -1;
  const last = await client.query<{ created_at: string }>('SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1');
  return Number(last.rows[0]?.created_at ?? -1);
}

/**
 * drizzle's own migrator (each call one transaction), stopped before each data step that is
 * still due so the step sees the schema it was written for, then run to the end.
 */
async function migrateWithSteps(client: pg.PoolClient, options: MigrateOptions): Promise<void> {
  // What drizzle's node-postgres `migrate` does, with a subset of the migrations.
  const dialect = new PgDialect();
  const session = new NodePgSession<Record<string, never>, Record<string, never>>(client, dialect, undefined);
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  const migrations: MigrationMeta[] = readMigrationFiles(config);
  const when = journalWhen();
  for (const step of dataSteps(options.keyring)) {
    const barrier = when.get(step.before);
    if (barrier === undefined) throw new Error(`data step before unknown migration ${step.before}`);
    if ((await lastApplied(client)) >= barrier) continue;
    await dialect.migrate(migrations.filter((m) => m.folderMillis < barrier), session, config);
    await step.run(client);
  }
  await dialect.migrate(migrations, session, config);
}

/**
 * Applies pending drizzle-kit migrations, with the data steps between them, while holding the
 * migration advisory lock on one connection, so replicas booting together migrate once
 * (DATA-MODEL.md §Migrations and locks).
 */
export async function applyMigrations(pool: pg.Pool, options: MigrateOptions = {}): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await migrateWithSteps(client, options);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

/** Number of migrations in drizzle/ newer than the last one recorded in the database. */
export async function countPendingMigrations(pool: pg.Pool): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const table = await pool.query<{ exists: boolean }>(
    "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists",
  );
  if (!table.rows[0]?.exists) return migrations.length;
  const last = await pool.query<{ created_at: string }>(
    'SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1',
  );
  const lastMillis = Number(last.rows[0]?.created_at ?? -1);
  return migrations.filter((m) => m.folderMillis > lastMillis).length;
}
