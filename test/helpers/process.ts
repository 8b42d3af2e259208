import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every child still running, so a failed test never leaves a server behind (see stopAll). */
const running = new Set<ChildProcessWithoutNullStreams>();

/**
 * Stops every child this file spawned that is still running (a test that failed midway):
 * SIGTERM so an embedded Postgres is stopped too, SIGKILL after 10 s. Call it in afterAll.
 */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  running.clear();
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Runs the server (or another entry script) as `npm start` does (`node --import tsx …`), node
 * itself as the child so signals reach it directly, with only the given environment (plus PATH).
 */
export function spawnServer(
  env: Record<string, string>,
  opts: { cwd?: string; script?: string; args?: string[]; preload?: string[] } = {},
): ServerProcess {
  // tsx resolved here, so the child may run in any working directory (e.g. one holding a .env).
  const preloads = (opts.preload ?? []).flatMap((file) => ['--import', join(ROOT, file)]);
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), ...preloads, join(ROOT, opts.script ?? 'src/server.ts'), ...(opts.args ?? [])], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `url` until it answers `status` or `timeoutMs` passes. */
export async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === status) return res;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
