import { describe, expect, it } from 'vitest';
import type { JobDefinition } from '../../src/plugins/jobs.js';
import { buildTestApp } from '../helpers/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The real app with one extra job registered before ready; `startJobs` runs the scheduler. */
async function appWithJob(startJobs: boolean, job: JobDefinition) {
  const { app } = await buildTestApp({}, { startJobs, beforeReady: async (a) => a.jobs.register(job) });
  return app;
}

describe('jobs plugin', () => {
  it('runs a tick on demand and never overlaps two runs of one job', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const app = await appWithJob(false, {
      name: 'probe',
      intervalMs: 60_000,
      firstRunMs: 60_000,
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(50);
        running--;
        runs++;
      },
    });
    await Promise.all([app.jobs.runOnce('probe'), app.jobs.runOnce('probe')]);
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(1);
    await app.close();
  });

  it('starts jobs at ready when enabled, and waits for a running iteration on close', async () => {
    let finished = false;
    let aborted = false;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => { markStarted = resolve; });
    const app = await appWithJob(true, {
      name: 'slow',
      intervalMs: 60_000,
      firstRunMs: 0,
      // Runs until close aborts it (bounded at 10 s), then takes another moment to finish:
      // close must wait for it however loaded the machine is.
      run: async (signal) => {
        markStarted();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
        });
        aborted = signal.aborted;
        await sleep(50);
        finished = true;
      },
    });
    await started;
    await app.close();
    expect(aborted).toBe(true);
    expect(finished).toBe(true);
  });

  it('logs and survives a failing run', async () => {
    const app = await appWithJob(false, { name: 'failing', intervalMs: 60_000, firstRunMs: 60_000, run: async () => { throw new Error('boom'); } });
    await expect(app.jobs.runOnce('failing')).resolves.toBeUndefined();
    await app.close();
  });

  it('a fixed-rate job counts its interval from the previous start: after a run longer than the interval, the next starts at once', async () => {
    const starts: number[] = [];
    const ends: number[] = [];
    const app = await appWithJob(true, {
      name: 'fixed',
      intervalMs: 1_000,
      firstRunMs: 0,
      fixedRate: true,
      run: async () => {
        starts.push(performance.now());
        if (starts.length <= 2) await sleep(1_100);
        ends.push(performance.now());
      },
    });
    while (starts.length < 2) await sleep(50);
    await app.close();
    // Counted from the end (the default), the second run would wait the whole 1,000 ms.
    expect(starts[1]! - ends[0]!).toBeLessThan(600);
  });
});
