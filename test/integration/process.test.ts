import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, spawnServer, stopAll, waitForStatus } from '../helpers/process.js';

const dirs: string[] = [];
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aitp-cp-proc-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await stopAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('boot validation', () => {
  it('lists every bad variable at once and exits 78 without echoing a secret', async () => {
    const server = spawnServer({
      PORT: '99999',
      RATE_LIMIT_WINDOW_MS: 'soon',
      CP_AID_SEED_HEX: 'zz-not-hex-secret-value',
      METRICS_TOKEN: 'tok-xyzzy',
      DATA_DIR: tempDataDir(),
    });
    expect(await server.exited).toBe(78);
    const lines = server.stderr().trim().split('\n');
    for (const name of ['PORT', 'RATE_LIMIT_WINDOW_MS', 'CP_AID_SEED_HEX', 'METRICS_TOKEN']) {
      expect(lines.some((l) => l.startsWith(`config error: ${name}:`))).toBe(true);
    }
    expect(server.stderr()).not.toContain('zz-not-hex-secret-value');
    expect(server.stderr()).not.toContain('tok-xyzzy');
    expect(server.stdout()).toBe('');
  });

  it('refuses to boot in production without DATABASE_URL, CP_AID_SEED_HEX, ENROLLMENT_SECRET, SECRETS_KEY and API_KEYS', async () => {
    const server = spawnServer({ NODE_ENV: 'production', DATA_DIR: tempDataDir() });
    expect(await server.exited).toBe(78);
    for (const name of ['DATABASE_URL', 'CP_AID_SEED_HEX', 'ENROLLMENT_SECRET', 'SECRETS_KEY', 'API_KEYS']) {
      expect(server.stderr()).toMatch(new RegExp(`^config error: ${name}:`, 'm'));
    }
  });
});

describe('a fresh start with an empty environment', () => {
  it('serves health and readyz on an embedded Postgres, drains on SIGTERM, and keeps its data', async () => {
    const dataDir = tempDataDir();
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${env.PORT}`;

    const first = spawnServer(env);
    const health = (await (await waitForStatus(`${base}/api/health`, 200, 60_000)).json()) as { aid: string };
    expect(health).toMatchObject({ ok: true, service: 'aitp-control-plane', db: 'ok' });
    expect(health.aid).toMatch(/^aid:pubkey:[A-Za-z0-9_-]{43}$/);
    expect((await fetch(`${base}/api/readyz`)).status).toBe(200);
    expect(first.stdout()).toContain('"msg":"listening"');
    expect(first.stdout()).not.toContain(readFileSync(join(dataDir, 'cp-seed.hex'), 'utf8').trim());
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = spawnServer(env);
    const again = (await (await waitForStatus(`${base}/api/health`, 200, 60_000)).json()) as { aid: string };
    expect(again.aid).toBe(health.aid);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stdout()).toContain('shutdown: draining');
  });

  it('exits 1 naming the directory when another instance holds the embedded data dir', async () => {
    const dataDir = tempDataDir();
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
    const first = spawnServer(env);
    await waitForStatus(`http://127.0.0.1:${env.PORT}/api/health`, 200, 60_000);
    const second = spawnServer({ ...env, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.stdout()).toContain(join(dataDir, 'pg'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});

describe('signals', () => {
  it('drains on SIGTERM (readyz 503, health 200) and exits 1 at once on a second signal', async () => {
    const env = { DATA_DIR: tempDataDir(), PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()), DRAIN_DELAY_MS: '30000' };
    const base = `http://127.0.0.1:${env.PORT}`;
    const server = spawnServer(env);
    await waitForStatus(`${base}/api/health`, 200, 60_000);
    server.child.kill('SIGTERM');
    const ready = await waitForStatus(`${base}/api/readyz`, 503, 5_000);
    expect(await ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
    const started = Date.now();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.stdout()).toContain('shutdown: second signal');
  });
});

describe('against an external Postgres', () => {
  it('boots in production mode with DATABASE_URL and every required secret', async () => {
    const port = await freePort();
    const server = spawnServer({
      NODE_ENV: 'production',
      DATABASE_URL: await createTestDatabase(),
      CP_AID_SEED_HEX: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      ENROLLMENT_SECRET: 'e'.repeat(40),
      SECRETS_KEY: 'ab'.repeat(32),
      API_KEYS: 'k'.repeat(32),
      HOST: '127.0.0.1',
      PORT: String(port),
      DRAIN_DELAY_MS: '0',
      CP_BASE_URL: 'https://cp.example.com',
      CORS_ORIGIN: 'https://console.example.com',
    });
    const health = (await (await waitForStatus(`http://127.0.0.1:${port}/api/health`, 200, 60_000)).json()) as { aid: string };
    expect(health.aid).toBe('aid:pubkey:PM0kHP_Js2GARLl9A22GFFk9iwF8NA8d7odzOFUXZUs');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
