/** The steps of boot (OPERATIONS.md §5) a failure is reported under. */
export type BootStep = 'config' | 'embedded database' | 'database' | 'migrations' | 'app' | 'listen';

/** A boot failure tagged with the step it happened in; `cause` is the original error. */
export class BootStepError extends Error {
  constructor(
    readonly step: BootStep,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${describeCause(cause)}`);
  }
}

/** Runs one boot step; whatever it throws comes out tagged with the step (the first tag wins). */
export async function atStep<T>(step: BootStep, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw err instanceof BootStepError ? err : new BootStepError(step, err);
  }
}

/** `boot failed: <step>: <cause>` on one line; an untagged error is reported under `fallback`. */
export function bootFailureLine(err: unknown, fallback: BootStep): string {
  const failure = err instanceof BootStepError ? err : new BootStepError(fallback, err);
  return `boot failed: ${failure.message}`;
}

/**
 * The cause as one line: the message (and errno code), or each inner error of an AggregateError
 * (Node reports a refused dual-stack connect that way, with an empty message). Credentials in a
 * connection string are masked, should a driver ever echo one.
 */
export function describeCause(err: unknown): string {
  const text = err instanceof AggregateError && err.message === '' ? err.errors.map(describeCause).join('; ') : describeOne(err);
  return text.replace(/\s+/g, ' ').replace(/:\/\/[^@\s/]*@/g, '://***@').trim();
}

function describeOne(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message === '' ? err.name : err.message;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
