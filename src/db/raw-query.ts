import pg from 'pg';

/**
 * Hot read paths (discovery, history) skip the query builder and the driver's value parsing:
 * the statement text is fixed per filter combination and sent as a named prepared statement,
 * so Postgres parses and plans it once per connection, and every column arrives as Postgres'
 * text output, converted only where the view needs it (jsonb text is spliced into the response
 * as is, never parsed and re-serialized).
 */
export type TextRow = Record<string, string | null>;

/** Type parsers that leave every column as Postgres' text output. */
export const AS_TEXT = { getTypeParser: () => (value: string) => value };

/** Statement texts are built from fixed fragments (values are always parameters), so this stays small. */
const MAX_NAMED = 256;
const names = new Map<string, string>();

function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_NAMED) {
    name = `aitp_raw_${names.size}`;
    names.set(text, name);
  }
  return name;
}

export async function queryText(db: Pick<pg.Pool, 'query'>, text: string, values: unknown[]): Promise<TextRow[]> {
  const result = await db.query<TextRow>({ name: statementName(text), text, values, types: AS_TEXT });
  return result.rows;
}

const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date;

/**
 * timestamptz text (`2026-11-24 16:18:01.123456+00`: the pool runs with TimeZone=UTC and
 * DateStyle=ISO, so a 4-digit year, a space, 0–6 fraction digits, `+00`) as the API's ISO form
 * with milliseconds, truncated like the driver's Date (README §Timestamps). Anything else
 * (another zone, BC, a 5-digit year) goes through the driver's parser.
 */
export function isoOf(text: string): string {
  const end = text.length - 3;
  if (text[10] !== ' ' || text.charCodeAt(end) !== 43 /* + */ || text[end + 1] !== '0' || text[end + 2] !== '0' || (end !== 19 && text[19] !== '.')) {
    return parseTimestamptz(text).toISOString();
  }
  const millis = end === 19 ? '000' : `${text.slice(20, end)}000`.slice(0, 3);
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${millis}Z`;
}

export function isoOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : isoOf(text);
}

/** A timestamptz text column as a JSON ISO string (or null); ISO text never needs escaping. */
export function jsonIso(text: string | null | undefined): string {
  return text === null || text === undefined ? 'null' : `"${isoOf(text)}"`;
}
