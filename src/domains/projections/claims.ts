import { exceedsCodePoints } from '../../lib/code-points.js';
import { isInRange } from '../../lib/timestamps.js';

/** Readers for the loosely shaped claims producers report (EVENTS.md §4.3, §4.4). */
export type Claims = Record<string, unknown>;

/** A non-null, non-array object, else undefined. */
export function asObject(value: unknown): Claims | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Claims) : undefined;
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The first non-empty string among `sources[i][key]`, in the order given. */
export function firstString(...candidates: Array<[Claims | undefined, string]>): string | undefined {
  for (const [source, key] of candidates) {
    const value = nonEmptyString(source?.[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** `value` if an array whose items are all strings. */
export function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}

/** Epoch seconds (finite, in the timestamp range) as a Date at millisecond precision. */
export function epochSeconds(value: unknown): Date | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const date = new Date(Math.round(value * 1000));
  return isInRange(date) ? date : undefined;
}

/** The first of `keys` in `claims` that is a usable epoch-seconds value. */
export function firstEpoch(claims: Claims, keys: readonly string[]): Date | undefined {
  for (const key of keys) {
    const date = epochSeconds(claims[key]);
    if (date !== undefined) return date;
  }
  return undefined;
}

/** At most `max` code points, as Postgres varchar(n) counts them. */
export function fitsIn(value: string, max: number): boolean {
  return !exceedsCodePoints(value, max);
}
