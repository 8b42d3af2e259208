import { sha256 } from '@noble/hashes/sha2.js';
import { needsJsonEscape } from '../lib/json-text.js';
import { JsonNumber } from './strict-json.js';

// RFC 8785 (JCS) for the value space AITP documents use (SPEC §3): objects, arrays, strings,
// numbers, booleans, null. Input checks that depend on the raw text (duplicates, float
// literals) belong to the strict parser; this module only refuses values JCS cannot encode.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** RFC 8785 canonical JSON text. Throws TypeError on a value JCS cannot represent. */
export function jcs(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return canonicalString(value);
    case 'number':
      return canonicalNumber(value);
    case 'object':
      if (value instanceof JsonNumber) return canonicalNumber(value.value);
      if (Array.isArray(value)) return canonicalArray(value);
      if (!isPlainObject(value)) throw new TypeError('JCS encodes only plain objects');
      return canonicalObject(value);
    default:
      throw new TypeError(`JCS cannot encode a value of type ${typeof value}`);
  }
}

/** UTF-8 bytes of jcs(value). */
export function jcsBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(jcs(value));
}

/** SHA-256 of jcs(value): the signing input of the JCS profile (SPEC §4). */
export function jcsSha256(value: unknown): Uint8Array {
  return sha256(jcsBytes(value));
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function canonicalString(text: string): string {
  // Fast path (event ids hash every string of every ingested entry): with no control character,
  // quote, backslash or surrogate half there is nothing to escape or to refuse.
  return needsJsonEscape(text) ? escapedString(text) : `"${text}"`;
}

function escapedString(text: string): string {
  // A lone surrogate has no UTF-8 encoding; TextEncoder would silently substitute U+FFFD.
  if (LONE_SURROGATE.test(text)) throw new TypeError('JCS cannot encode a lone surrogate');
  // JSON.stringify escapes exactly what RFC 8785 §3.2.2.2 requires (SPEC §3).
  return JSON.stringify(text);
}

function canonicalNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('JCS cannot encode a non-finite number');
  // ECMAScript Number-to-string is the RFC 8785 number form; -0 serializes as 0.
  return String(value);
}

function canonicalArray(items: readonly unknown[]): string {
  let out = '[';
  for (let index = 0; index < items.length; index++) {
    if (index > 0) out += ',';
    if (!(index in items)) throw new TypeError('JCS cannot encode a sparse array');
    out += jcs(items[index]);
  }
  return out + ']';
}

/**
 * jcs(object) and, computed once on the way, the JCS text of its member `member` (undefined
 * when it has none): event ids canonicalize a whole entry, and the audit log's leaf needs its
 * payload alone.
 */
export function jcsWithMember(object: Record<string, unknown>, member: string): { text: string; member: string | undefined } {
  if (!isPlainObject(object)) throw new TypeError('JCS encodes only plain objects');
  const found: { text?: string } = {};
  const text = canonicalObject(object, member, found);
  return { text, member: found.text };
}

function canonicalObject(object: Record<string, unknown>, member?: string, found?: { text?: string }): string {
  const names = sortedNames(Object.keys(object));
  let out = '{';
  for (let index = 0; index < names.length; index++) {
    const name = names[index] as string;
    if (index > 0) out += ',';
    const value = jcs(object[name]);
    if (name === member) found!.text = value;
    out += canonicalString(name) + ':' + value;
  }
  return out + '}';
}

/**
 * Member names in UTF-16 code unit order, RFC 8785's member order: `<` on strings and the default
 * sort both compare code units. Insertion sort for the few members of a typical object (event
 * ids canonicalize every ingested entry), the built-in sort beyond that.
 */
function sortedNames(names: string[]): string[] {
  if (names.length > 16) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    for (; j >= 0 && names[j]! > name; j--) names[j + 1] = names[j]!;
    names[j + 1] = name;
  }
  return names;
}
