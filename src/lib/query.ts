import { Type } from 'typebox';
import { badRequest, notFound } from './errors.js';
import { stringProblem } from './safe-json.js';

/** Booleans accept `true|false|1|0` (contract README §Query parameters). */
export const BooleanQuery = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]);

export function parseBoolean(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'true' || value === '1';
}

/** snake_case wins over its camelCase alias. */
export function aliased<T>(snake: T | undefined, camel: T | undefined): T | undefined {
  return snake ?? camel;
}

/** Splits a comma list (`type=a,b`), trimming and dropping empties; at most `max` items. */
export function commaList(value: string | undefined, field: string, max: number): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length > max) throw badRequest(`at most ${max} values`, field);
  return items;
}

/** U+0000 or a lone surrogate in a query value → 400 BAD_REQUEST (contract README §Bodies). */
export function assertSafeQuery(query: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(query)) {
    if (typeof value === 'string' && stringProblem(value) !== undefined) throw badRequest(`query parameter ${name} ${stringProblem(value)}`, name);
  }
}

/**
 * A path parameter with U+0000 or a lone surrogate names nothing that can exist → 404 NOT_FOUND
 * (contract Ruling 16). The wildcard of catch-all routes is not a lookup key and is left alone.
 */
export function assertSafeParams(params: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(params)) {
    if (name !== '*' && typeof value === 'string' && stringProblem(value) !== undefined) throw notFound();
  }
}
