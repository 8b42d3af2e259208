/**
 * String lengths count Unicode code points, as Postgres varchar(n) does (contract README §Bodies
 * and validation). UTF-16 length is an upper bound, so short strings skip the count.
 */
export function exceedsCodePoints(value: string, max: number): boolean {
  if (value.length <= max) return false;
  let count = 0;
  for (const _ of value) if (++count > max) return true;
  return false;
}

/** The first `max` code points of `value` (never splits a surrogate pair). */
export function truncateCodePoints(value: string, max: number): string {
  if (!exceedsCodePoints(value, max)) return value;
  let out = '';
  let count = 0;
  for (const char of value) {
    if (count++ === max) break;
    out += char;
  }
  return out;
}
