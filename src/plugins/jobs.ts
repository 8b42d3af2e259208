import fp from 'fastify-plugin';

export interface JobDefinition {
  name: string;
  intervalMs: number;
  /** Delay before the first run (OPERATIONS.md §10 "first run"). */
  firstRunMs: number;
  /**
   * Count the interval from the start of the previous run rather than its end (at once when a
   * run took longer), for a job that promises to stay at most `intervalMs` behind.
   */
  fixedRate?: boolean;
  run: (signal: AbortSignal) => Promise<void>;
}

export interface Jobs {
  register(job: JobDefinition): void;
  /** Runs one tick now (tests); waits for a tick already in progress instead of overlapping. */
  runOnce(name: string): Promise<void>;
  /**
   * Starts a run now instead of at the next tick (a local poke, e.g. the webhook dispatcher
   * after an enqueue). Does nothing while that job runs, after drain began, or when jobs were not
   * started (tests drive runOnce themselves).
   */
  poke(name: string): void;
  /** Names of registered jobs. */
  names(): string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Jobs;
  }
}

interface JobState {
  def: JobDefinition;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  startedAt?: number;
}

/** The delay until the next run of a job whose run just ended. */
function nextDelay(state: JobState): number {
  const { intervalMs, fixedRate } = state.def;
  if (fixedRate !== true || state.startedAt === undefined) return intervalMs;
  return Math.max(0, intervalMs - (performance.now() - state.startedAt));
}

export interface JobsOptions {
  /** false in tests: nothing runs until runOnce(). */
  autoStart: boolean;
}

/**
 * Background jobs (OPERATIONS.md §10): started when the app is ready, in every replica, with
 * unref'd timers; a tick is skipped while the previous run is still going; every run logs its
 * failure. On close, timers stop and a running iteration is awaited (its AbortSignal fires so
 * long jobs can stop after their current batch).
 */
export default fp<JobsOptions>(
  async (app, opts) => {
    const jobs = new Map<string, JobState>();
    const abort = new AbortController();
    let stopped = false;

    const tick = (state: JobState): Promise<void> => {
      if (state.running) return state.running;
      state.startedAt = performance.now();
      const log = app.log.child({ job: state.def.name });
      state.running = state.def
        .run(abort.signal)
        .catch((err: unknown) => log.error({ err }, 'job run failed'))
        .finally(() => {
          state.running = undefined;
        });
      return state.running;
    };

    const schedule = (state: JobState, delay: number): void => {
      if (stopped) return;
      // A poke may have started a run while a timer was pending: keep exactly one timer.
      clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        void tick(state).finally(() => schedule(state, nextDelay(state)));
      }, delay);
      state.timer.unref();
    };

    app.decorate('jobs', {
      register(def: JobDefinition) {
        if (jobs.has(def.name)) throw new Error(`job ${def.name} registered twice`);
        jobs.set(def.name, { def });
      },
      async runOnce(name: string) {
        const state = jobs.get(name);
        if (!state) throw new Error(`unknown job ${name}`);
        if (state.running) await state.running;
        await tick(state);
      },
      poke(name: string) {
        const state = jobs.get(name);
        if (!state || !opts.autoStart || stopped || state.running) return;
        clearTimeout(state.timer);
        void tick(state).finally(() => schedule(state, nextDelay(state)));
      },
      names: () => [...jobs.keys()],
    });

    app.addHook('onReady', async () => {
      if (!opts.autoStart) return;
      for (const state of jobs.values()) schedule(state, state.def.firstRunMs);
    });

    // preClose: stop starting new runs as soon as the listener closes (OPERATIONS.md §13).
    app.addHook('preClose', async () => {
      stopped = true;
      abort.abort();
      for (const state of jobs.values()) clearTimeout(state.timer);
    });
    app.addHook('onClose', async () => {
      await Promise.all([...jobs.values()].map((s) => s.running));
    });
  },
  { name: 'jobs' },
);
