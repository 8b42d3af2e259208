import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/config/index.js';
import { fingerprintOf } from '../../src/plugins/auth.js';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, spawnServer, stopAll, waitForStatus } from '../helpers/process.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-cp-cli-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await stopAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm run gen-env', () => {
  it('writes a 0600 env file with fresh secrets, prints names and the AID but no secret, and refuses to overwrite', async () => {
    const dir = tempDir();
    const gen = spawnServer({}, { cwd: dir, script: 'src/cli/gen-env.ts', args: ['--metrics-token'] });
    expect(await gen.exited).toBe(0);
    const file = join(dir, '.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const values = parseEnvFile(readFileSync(file, 'utf8'));
    expect(values['CP_AID_SEED_HEX']).toMatch(/^[0-9a-f]{64}$/);
    expect(values['ENROLLMENT_SECRET']).toMatch(/^[0-9a-f]{64}$/);
    expect(values['API_KEYS']).toMatch(/^[0-9a-f]{64}$/);
    expect(values['METRICS_TOKEN']).toMatch(/^[0-9a-f]{48}$/);
    expect(values['SECRETS_KEY']).toMatch(/^[0-9a-f]{64}$/);
    const printed = JSON.parse(gen.stdout()) as { path: string; generated: string[]; aid: string };
    expect(printed.generated).toEqual(['CP_AID_SEED_HEX', 'ENROLLMENT_SECRET', 'API_KEYS', 'SECRETS_KEY', 'METRICS_TOKEN']);
    expect(printed.aid).toMatch(/^aid:pubkey:/);
    for (const secret of Object.values(values)) expect(gen.stdout()).not.toContain(secret);

    const again = spawnServer({}, { cwd: dir, script: 'src/cli/gen-env.ts' });
    expect(await again.exited).toBe(1);
    expect(parseEnvFile(readFileSync(file, 'utf8'))['API_KEYS']).toBe(values['API_KEYS']);
  });

  it('gives a file a production server boots with (DATABASE_URL supplied by the test, Ruling 15)', async () => {
    const dir = tempDir();
    expect(await spawnServer({}, { cwd: dir, script: 'src/cli/gen-env.ts' }).exited).toBe(0);
    const port = await freePort();
    const server = spawnServer(
      { NODE_ENV: 'production', DATABASE_URL: await createTestDatabase(), PORT: String(port), HOST: '127.0.0.1', DRAIN_DELAY_MS: '0' },
      { cwd: dir },
    );
    const health = (await (await waitForStatus(`http://127.0.0.1:${port}/api/health`, 200, 60_000)).json()) as { aid: string };
    const seed = parseEnvFile(readFileSync(join(dir, '.env'), 'utf8'))['CP_AID_SEED_HEX']!;
    expect(server.stdout()).not.toContain(seed);
    expect(health.aid).toMatch(/^aid:pubkey:/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('npm run config:check', () => {
  it('reports each setting as set/valid, values only for non-secrets, and exits 78 on a missing secret', async () => {
    const dir = tempDir();
    const check = spawnServer(
      { NODE_ENV: 'production', API_KEYS: 'k'.repeat(30) + ',' + 'q'.repeat(30), DATABASE_URL: 'postgres://u:hunter2@db/x', PORT: '4100' },
      { cwd: dir, script: 'src/cli/config-check.ts' },
    );
    expect(await check.exited).toBe(78);
    const out = check.stdout();
    expect(out).not.toContain('kkkkkkkk');
    expect(out).not.toContain('hunter2');
    const report = JSON.parse(out) as { ok: boolean; mode: string; settings: Array<Record<string, unknown>>; errors: string[] };
    expect(report).toMatchObject({ ok: false, mode: 'production' });
    const byName = new Map(report.settings.map((s) => [s['name'], s]));
    expect(byName.get('API_KEYS')).toEqual({
      name: 'API_KEYS', secret: true, set: true, count: 2, valid: true, ids: [fingerprintOf('k'.repeat(30)), fingerprintOf('q'.repeat(30))],
    });
    expect(byName.get('CP_AID_SEED_HEX')).toEqual({ name: 'CP_AID_SEED_HEX', secret: true, set: false, valid: false });
    expect(byName.get('PORT')).toEqual({ name: 'PORT', secret: false, set: true, source: 'env', value: 4100, valid: true });
    expect(byName.get('RATE_LIMIT_WINDOW_MS')).toMatchObject({ set: false, source: 'default', value: 60000 });
    expect(report.errors).toContain('CP_AID_SEED_HEX: required in production');
  });

  it('exits 0 for a valid development environment', async () => {
    const check = spawnServer({}, { cwd: tempDir(), script: 'src/cli/config-check.ts' });
    expect(await check.exited).toBe(0);
    expect(JSON.parse(check.stdout())).toMatchObject({ ok: true, mode: 'development' });
  });
});
