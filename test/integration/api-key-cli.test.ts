import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer, stopAll } from '../helpers/process.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-cp-apikey-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await stopAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://cp:pw@db.example.com/cp',
  CP_AID_SEED_HEX: 'ab'.repeat(32),
  ENROLLMENT_SECRET: 's'.repeat(32),
  SECRETS_KEY: 'cd'.repeat(32),
};

describe('npm run api-key:new', () => {
  it('prints a fresh key with its sha256: entry, which config:check accepts under the same fingerprint', async () => {
    const first = spawnServer({}, { cwd: tempDir(), script: 'src/cli/api-key-new.ts' });
    const second = spawnServer({}, { cwd: tempDir(), script: 'src/cli/api-key-new.ts' });
    expect(await first.exited).toBe(0);
    expect(await second.exited).toBe(0);
    const printed = JSON.parse(first.stdout()) as { key: string; entry: string; fingerprint: string };
    const digest = createHash('sha256').update(printed.key).digest('hex');
    expect(printed.key).toMatch(/^[0-9a-f]{64}$/);
    expect(printed).toEqual({ key: printed.key, entry: `sha256:${digest}`, fingerprint: `apikey:${digest.slice(0, 16)}` });
    expect(JSON.parse(second.stdout()).key).not.toBe(printed.key);

    const check = spawnServer({ ...PRODUCTION, API_KEYS: printed.entry }, { cwd: tempDir(), script: 'src/cli/config-check.ts' });
    expect(await check.exited).toBe(0);
    const report = JSON.parse(check.stdout()) as { settings: Array<{ name: string; ids?: string[] }> };
    expect(report.settings.find((s) => s.name === 'API_KEYS')?.ids).toEqual([printed.fingerprint]);
    expect(check.stdout()).not.toContain(digest);
  });
});

describe('a malformed API_KEYS entry', () => {
  it('stops the boot with exit 78, naming its position and never a value', async () => {
    const bad = `sha256:${'LEAKMARK'.repeat(8)}`;
    const server = spawnServer({ ...PRODUCTION, API_KEYS: `${'k'.repeat(30)},${bad}`, DATA_DIR: tempDir() });
    expect(await server.exited).toBe(78);
    expect(server.stderr()).toContain('config error: API_KEYS: entry 2 is not a sha256:<64 hex> digest');
    expect(server.stderr()).not.toContain('LEAKMARK');
    expect(server.stderr()).not.toContain('kkkkkkkk');
    expect(server.stdout()).toBe('');
  });
});
