import { Client } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What one request of a load loop came to. */
export type LoadOutcome =
  | {
      kind: 'response';
      worker: number;
      startedAt: number;
      endedAt: number;
      status: number;
      /** `code` of an error body, when there is one. */
      code: string | undefined;
      connection: string | undefined;
      retryAfter: string | undefined;
      request: LoadRequest;
    }
  | { kind: 'error'; worker: number; startedAt: number; endedAt: number; errorCode: string; message: string; request: LoadRequest };

export interface LoadOptions {
  origin: string;
  workers: number;
  next: (worker: number, i: number) => LoadRequest;
  /** A worker stops for good at its first refused connection (the listener closed). */
  stopOnRefused?: boolean;
  /** Pause after a transport error, so a dead server is not spun on. */
  errorPauseMs?: number;
  requestTimeoutMs?: number;
}

export interface Load {
  outcomes: LoadOutcome[];
  /** Ask every worker to stop after its current request; resolves when all have. */
  stop(): Promise<void>;
  /** Resolves when every worker stopped (by stop() or stopOnRefused). */
  done: Promise<void>;
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);

function errorBodyCode(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}

async function runWorker(opts: LoadOptions, worker: number, outcomes: LoadOutcome[], stopped: () => boolean): Promise<void> {
  // One keep-alive connection per worker, reused request after request (what a real client does).
  const client = new Client(opts.origin, { pipelining: 1, headersTimeout: opts.requestTimeoutMs ?? 15_000, bodyTimeout: opts.requestTimeoutMs ?? 15_000 });
  try {
    for (let i = 0; !stopped(); i++) {
      const request = opts.next(worker, i);
      const startedAt = Date.now();
      try {
        const res = await client.request({ method: request.method, path: request.path, headers: request.headers, body: request.body });
        const text = await res.body.text();
        outcomes.push({
          kind: 'response',
          worker,
          startedAt,
          endedAt: Date.now(),
          status: res.statusCode,
          code: res.statusCode >= 400 ? errorBodyCode(text) : undefined,
          connection: header(res.headers.connection),
          retryAfter: header(res.headers['retry-after']),
          request,
        });
      } catch (err) {
        const errorCode = String((err as { code?: unknown }).code ?? 'UNKNOWN');
        outcomes.push({ kind: 'error', worker, startedAt, endedAt: Date.now(), errorCode, message: (err as Error).message, request });
        if (errorCode === 'ECONNREFUSED' && opts.stopOnRefused) return;
        await new Promise((resolve) => setTimeout(resolve, opts.errorPauseMs ?? 20));
      }
    }
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** `workers` concurrent request loops against one origin, every outcome recorded. */
export function startLoad(opts: LoadOptions): Load {
  const outcomes: LoadOutcome[] = [];
  let stopping = false;
  const done = Promise.all(Array.from({ length: opts.workers }, (_, w) => runWorker(opts, w, outcomes, () => stopping))).then(() => undefined);
  return {
    outcomes,
    done,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}
