/**
 * Timestamps the API accepts (contract README §Timestamps): RFC 3339 date-time with `T` or a
 * space, optional fraction, `Z` or `±HH[:MM]` (no offset = UTC), or a date `YYYY-MM-DD`
 * (= 00:00:00Z); years 0001–9999. Sub-millisecond digits are truncated.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z|z)|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysIn(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/** The instant, or undefined when the text is not an accepted timestamp. */
export function parseTimestamp(text: string): Date | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const [oh, om] = [Number(m[10]), Number(m[11] ?? 0)];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const result = new Date(date.getTime() - offsetMinutes * 60_000);
  return isInRange(result) ? result : undefined;
}

const EARLIEST = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d.getTime();
})();
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** 0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999Z. */
export function isInRange(date: Date): boolean {
  const t = date.getTime();
  return Number.isFinite(t) && t >= EARLIEST && t <= LATEST;
}

/** ISO-8601 UTC with milliseconds, as every API timestamp (Date.prototype.toISOString). */
export function toIso(date: Date): string;
export function toIso(date: Date | null): string | null;
export function toIso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
