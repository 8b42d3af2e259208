import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { adminUrl, createTestDatabase, urlFor } from '../helpers/database.js';
import { freePort, spawnServer, stopAll, waitForStatus } from '../helpers/process.js';

/** Every boot failure prints one line naming the step and the cause (OPERATIONS.md §5). */

const dirs: string[] = [];
const blockers: Server[] = [];
afterAll(async () => {
  await stopAll();
  await Promise.all(blockers.map((server) => new Promise((resolve) => server.close(resolve))));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-cp-boot-'));
  dirs.push(dir);
  return dir;
}

/** A port taken by a plain TCP listener on 127.0.0.1 for the rest of the file. */
async function occupiedPort(): Promise<number> {
  const server = createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The stderr lines that report a boot failure. */
const failureLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('boot failed: '));

const externalEnv = async (): Promise<Record<string, string>> => ({
  DATABASE_URL: await createTestDatabase(),
  DATA_DIR: tempDataDir(),
  HOST: '127.0.0.1',
});

describe('boot failures', () => {
  it('listen: an occupied port exits 1 with one line naming the step and EADDRINUSE', async () => {
    const server = spawnServer({ ...(await externalEnv()), PORT: String(await occupiedPort()) });
    expect(await server.exited).toBe(1);
    const lines = failureLines(server.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^boot failed: listen: .*EADDRINUSE/);
  });

  it('migrations: a database the migrations cannot apply to exits 1 with one line naming the step and the SQL error', async () => {
    const name = `boot_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    // A table of the first migration's name, already there with another shape.
    const db = new pg.Client({ connectionString: urlFor(name) });
    await db.connect();
    await db.query('CREATE TABLE agents (x int)');
    await db.end();
    const server = spawnServer({ ...(await externalEnv()), DATABASE_URL: urlFor(name), PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    const lines = failureLines(server.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^boot failed: migrations: .*agents/);
    expect(lines[0]).not.toMatch(/postgres(ql)?:\/\/[^*]/);
  });

  it('embedded database: a data directory Postgres cannot start from exits 1 with one line and Postgres\' reason', async () => {
    const dataDir = tempDataDir();
    // Looks initialised (so initdb is skipped) but holds no cluster.
    mkdirSync(join(dataDir, 'pg'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dataDir, 'pg', 'PG_VERSION'), '17\n');
    const server = spawnServer({ DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    const lines = failureLines(server.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^boot failed: embedded database: embedded Postgres failed to start on port \d+ in \S+: \S/);
    // Postgres' own reason, not a guess.
    expect(lines[0]).not.toContain('without saying why');
    expect(lines[0]).toMatch(/postgresql\.conf|FATAL|could not/);
  }, 120_000);

  it('embedded database on a taken port: retried on a free port, the server comes up', async () => {
    const taken = await occupiedPort();
    const port = await freePort();
    const server = spawnServer({ DATA_DIR: tempDataDir(), PORT: String(port), EMBEDDED_PG_PORT: String(taken) });
    const health = await waitForStatus(`http://127.0.0.1:${port}/api/health`, 200, 90_000);
    expect(await health.json()).toMatchObject({ db: 'ok' });
    const warning = server.stdout().split('\n').find((line) => line.includes('embedded postgres could not start, retrying on a free port'));
    expect(warning).toContain(`port ${taken}`);
    const started = JSON.parse(server.stdout().split('\n').find((line) => line.includes('"msg":"embedded postgres started"')) ?? '{}') as { port?: number };
    expect(started.port).not.toBe(taken);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);
});
