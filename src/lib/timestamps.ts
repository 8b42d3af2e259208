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

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * The proleptic Gregorian date of a day count since 1970-01-01 (days ≥ 0), in integer arithmetic
 * over 400-year eras of 146,097 days, whose years start on March 1 so that the leap day ends one.
 */
function civilDate(days: number): { year: number; month: number; day: number } {
  const shifted = days + 719_468; // days since 0000-03-01
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const marchMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March … 11 = February
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  return { year: era * 400 + yearOfEra + (month <= 2 ? 1 : 0), month, day: dayOfYear - Math.floor((153 * marchMonth + 2) / 5) + 1 };
}

/**
 * ISO-8601 UTC with milliseconds, as every API timestamp: the text of Date.prototype.toISOString,
 * which is a runtime call of about half a microsecond, formatted here in arithmetic for
 * 1970–9999. Anything else (including an invalid date, which throws RangeError) goes to
 * toISOString.
 */
export function toIso(date: Date): string;
export function toIso(date: Date | null): string | null;
export function toIso(date: Date | null): string | null {
  if (date === null) return null;
  const ms = date.getTime();
  if (!(ms >= 0 && ms <= LATEST)) return date.toISOString();
  const days = Math.floor(ms / DAY_MS);
  const { year, month, day } = civilDate(days);
  const inDay = ms - days * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}.${THREE_DIGITS[inDay % 1000]}Z`;
}
