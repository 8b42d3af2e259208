import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_FOLDER } from '../../src/db/migrate.js';
import { adminUrl, createTestDatabase, urlFor } from '../helpers/database.js';

// A migrations/ file that "replaces" a drizzle migration (migrations/README.md) must leave the
// database exactly as the drizzle migration would, and make the app's migrator skip it.
const SHADOWS = readdirSync(new URL('../../migrations/', import.meta.url)).filter((file) => /^\d{4}_.*\.sql$/.test(file));
const pools: pg.Pool[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'aitp-cp-migrations-'));

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  rmSync(scratch, { recursive: true, force: true });
});

async function emptyDatabase(): Promise<pg.Pool> {
  const name = `m_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: urlFor(name), max: 1 });
  pools.push(pool);
  return pool;
}

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };

/** A copy of drizzle/ whose journal stops before migration `index`: what the previous release shipped. */
function releaseBefore(index: number): string {
  const dir = mkdtempSync(join(scratch, 'drizzle-'));
  mkdirSync(join(dir, 'meta'));
  const entries = journal.entries.slice(0, index);
  writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const { tag } of entries) copyFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), join(dir, `${tag}.sql`));
  return dir;
}

/**
 * The file's statements one by one, as psql sends them: in one multi-statement query string
 * Postgres refuses CREATE INDEX CONCURRENTLY. The files keep one statement per `;` at a line end.
 */
function statementsOf(text: string): string[] {
  const code = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return code
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** Every index and constraint of the public schema, as Postgres prints them. */
async function shape(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ def: string }>(
    `SELECT indexdef AS def FROM pg_indexes WHERE schemaname = 'public'
     UNION ALL
     SELECT c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '') FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
     UNION ALL
     SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
     ORDER BY 1`,
  );
  return rows.map((row) => row.def);
}

describe('migrations/ files that replace a drizzle migration', () => {
  it.each(SHADOWS)('%s leaves the schema the drizzle migration leaves, and is then skipped', async (file) => {
    const index = Number(file.slice(0, 4));
    const pool = await emptyDatabase();
    // The database as the previous release left it, then the hand-run file.
    const client = await pool.connect();
    try {
      await migrate(drizzle(client), { migrationsFolder: releaseBefore(index) });
      for (const statement of statementsOf(readFileSync(new URL(`../../migrations/${file}`, import.meta.url), 'utf8'))) await client.query(statement);
    } finally {
      client.release();
    }
    const recorded = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0]!.n;
    expect(await recorded()).toBe(index + 1);

    // The release's migrator skips it (and applies whatever comes after it).
    await applyMigrations(pool);
    expect(await recorded()).toBe(journal.entries.length);

    const reference = new pg.Pool({ connectionString: await createTestDatabase(), max: 1 });
    pools.push(reference);
    expect(await shape(pool)).toEqual(await shape(reference));
  });
});
