import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { freePort, spawnServer, stopAll, waitForStatus } from '../helpers/process.js';

const dirs: string[] = [];
afterAll(async () => {
  await stopAll();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface LogLine {
  msg: string;
  err?: { message?: string; stack?: string };
}

const lines = (stdout: string): LogLine[] =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

/** A server that crashes on SIGUSR2 (the preloaded fixture decides how) logs, drains, exits 1. */
async function crashes(fixture: string, message: string, frame: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aitp-cp-crash-'));
  dirs.push(dataDir);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawnServer(
    { DATABASE_URL: await createTestDatabase(), DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), DRAIN_DELAY_MS: '1000' },
    { preload: [fixture] },
  );
  await waitForStatus(`${base}/api/health`, 200, 60_000);
  server.child.kill('SIGUSR2');
  // The normal drain: readyz turns 503 while health still answers.
  const ready = await waitForStatus(`${base}/api/readyz`, 503, 5_000);
  expect(await ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
  expect(await server.exited).toBe(1);

  const log = lines(server.stdout());
  const crash = log.find((line) => line.msg === 'crashed: draining');
  expect(crash?.err?.message).toBe(message);
  expect(crash?.err?.stack).toContain(frame);
  const after = log.slice(log.indexOf(crash!)).map((line) => line.msg);
  expect(after).toContain('shutdown: draining');
  expect(after).toContain('shutdown: complete');
}

describe('crash safety', () => {
  it('an error thrown in a timer is logged with its stack, drains and exits 1', async () => {
    await crashes('test/fixtures/crash/throw-in-timer.ts', 'crash drill: thrown in a timer', 'explodeInTimer');
  });

  it('an unhandled rejection is logged with its stack, drains and exits 1', async () => {
    await crashes('test/fixtures/crash/reject-unhandled.ts', 'crash drill: unhandled rejection', 'rejectUnhandled');
  });
});
