import autocannon, { type Request } from 'autocannon';

export interface LoadOptions {
  url: string;
  /** Keep-alive connections (default 16). */
  connections?: number;
  seconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A new body per request (POST). */
  body?: () => string;
  /** A new path (and query) per request, on the origin of `url`. */
  path?: () => string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Responses outside 2xx plus connection errors and timeouts. */
  failed: number;
}

/**
 * HTTP load from autocannon, in this process: the bench runner is its own process, pinned to
 * CPU 1, apart from the server and its Postgres on CPU 0.
 */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  const { body: makeBody, path: makePath } = opts;
  const perRequest = makeBody ?? makePath;
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 16,
    duration: opts.seconds,
    method: opts.method ?? 'GET',
    headers: { ...(makeBody ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    requests:
      perRequest === undefined
        ? undefined
        : [{ setupRequest: (req: Request): Request => ({ ...req, ...(makeBody ? { body: makeBody() } : {}), ...(makePath ? { path: makePath() } : {}) }) }],
  });
  return {
    rps: result.requests.total / (result.duration || opts.seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * The run with the median throughput of `runs` runs (issue #11: median of 3), after one run that
 * is thrown away: the first seconds against a path measure V8 compiling it, the planner, cold
 * shared buffers and empty row caches, not the steady state.
 */
export async function medianOf(runs: number, once: () => Promise<LoadResult>): Promise<LoadResult> {
  await once();
  const results: LoadResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  results.sort((a, b) => a.rps - b.rps);
  return results[Math.floor(results.length / 2)]!;
}
