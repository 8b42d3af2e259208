import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { drain } from '../../src/boot/shutdown.js';
import { buildTestApp } from '../helpers/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('graceful drain (OPERATIONS.md §13)', () => {
  it('turns readyz 503 at once, keeps health 200, lets an in-flight request finish, exits 0', async () => {
    const { app } = await buildTestApp(
      { DRAIN_DELAY_MS: 400 },
      {
        beforeReady: async (a) => {
          a.get('/test/slow', { config: { auth: 'public' } }, async () => {
            await sleep(1_200);
            return { done: true };
          });
        },
      },
    );
    const base = await listen(app);
    const slow = fetch(`${base}/test/slow`);
    await sleep(100);
    let exitCode: number | undefined;
    const draining = drain(
      { app, log: pino({ level: 'silent' }), drainDelayMs: 400, shutdownTimeoutMs: 5_000, afterClose: async () => undefined, exit: () => undefined },
      'SIGTERM',
    ).then((code) => (exitCode = code));

    const ready = await fetch(`${base}/api/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
    expect((await fetch(`${base}/api/health`)).status).toBe(200);

    const slowRes = await slow;
    expect(slowRes.status).toBe(200);
    expect(await slowRes.json()).toEqual({ done: true });
    await draining;
    expect(exitCode).toBe(0);
  });

  it('forces sockets closed after SHUTDOWN_TIMEOUT_MS and reports exit 1', async () => {
    const { app } = await buildTestApp(
      {},
      {
        beforeReady: async (a) => {
          a.get('/test/hang', { config: { auth: 'public' } }, async () => {
            await sleep(10_000);
            return {};
          });
        },
      },
    );
    const base = await listen(app);
    const hung = fetch(`${base}/test/hang`).catch((err: unknown) => err);
    await sleep(100);
    const started = Date.now();
    const code = await drain(
      { app, log: pino({ level: 'silent' }), drainDelayMs: 0, shutdownTimeoutMs: 1_000, afterClose: async () => undefined, exit: () => undefined },
      'SIGTERM',
    );
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await hung).toBeInstanceOf(Error);
  });
});
