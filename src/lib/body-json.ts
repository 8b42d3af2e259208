import secureJson from 'secure-json-parse';
import { bodyInvalid } from './errors.js';

/** JSON nested deeper than this is refused (contract README §Bodies and validation). */
export const MAX_JSON_DEPTH = 64;

// U+0000, or a surrogate half that is not part of a pair.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const FORBIDDEN_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; invalid byte sequences are a client error, not a silent U+FFFD. */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw bodyInvalid('body is not valid UTF-8');
  }
}

/** Returns the problem with a string value, if any. */
export function stringProblem(value: string): string | undefined {
  return FORBIDDEN_CHARS.test(value) ? 'contains U+0000 or an unpaired surrogate' : undefined;
}

/**
 * Fastify's own parser's prototype-poisoning guard, kept: a `__proto__` member or a `constructor`
 * member holding `prototype` is refused, so no later merge of a body can reach a prototype.
 */
const FORBID_PROTOTYPE_KEYS = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Parses a request body: JSON.parse (duplicate members: last wins; prototype keys refused),
 * then one iterative walk that rejects U+0000, lone surrogates (values and keys), non-finite
 * numbers (`1e400`) and nesting deeper than MAX_JSON_DEPTH. Every failure is a 400 BODY_INVALID with a JSON Pointer.
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = secureJson.parse(text, undefined, FORBID_PROTOTYPE_KEYS);
  } catch (err) {
    // secure-json-parse throws a SyntaxError of its own after JSON.parse succeeded.
    if ((err as Error).message.startsWith('Object contains forbidden')) throw bodyInvalid('body contains a forbidden prototype member');
    throw bodyInvalid('body is not valid JSON');
  }
  assertSafeJson(value);
  return value;
}

/** A value still to check; the pointer is rebuilt from `parent` only when a check fails. */
interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | undefined;
  key: string | number;
}

function pointerOf(entry: Pending): string {
  const tokens: string[] = [];
  for (let e: Pending | undefined = entry; e?.parent !== undefined; e = e.parent) tokens.push(escapePointer(String(e.key)));
  return tokens.length === 0 ? '' : `/${tokens.reverse().join('/')}`;
}

export function assertSafeJson(root: unknown): void {
  const stack: Pending[] = [{ value: root, depth: 0, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const entry = stack.pop()!;
    const { value, depth } = entry;
    if (typeof value === 'string') {
      if (FORBIDDEN_CHARS.test(value)) throw bodyInvalid(`string ${stringProblem(value)}`, pointerOf(entry));
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw bodyInvalid('number is not a finite double', pointerOf(entry));
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw bodyInvalid(`JSON nests deeper than ${MAX_JSON_DEPTH}`, pointerOf(entry));
      pushChildren(stack, entry, value);
    }
  }
}

function pushChildren(stack: Pending[], parent: Pending, value: object): void {
  const depth = parent.depth + 1;
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth, parent, key: i });
    return;
  }
  for (const key of Object.keys(value)) {
    const child: Pending = { value: (value as Record<string, unknown>)[key], depth, parent, key };
    if (FORBIDDEN_CHARS.test(key)) throw bodyInvalid(`member name ${stringProblem(key)}`, pointerOf(child));
    stack.push(child);
  }
}

/** RFC 6901 escaping of one reference token. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
