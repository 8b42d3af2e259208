// Strict JSON for signed AITP documents (SPEC §3, §5.5 step 1). JSON.parse is not enough:
// it keeps the last of two duplicate members (a signature-confusion hazard), accepts lone
// surrogates, and turns `1711986400.0` into an integer so a float timestamp goes unnoticed.

import { MAX_JSON_DEPTH } from '../lib/body-json.js';

export { MAX_JSON_DEPTH };

/**
 * A number literal that is not a safe integer: it had a fraction or an exponent, or its
 * magnitude exceeds 2^53 - 1. `value` is the IEEE double (what JCS serializes, SPEC §3);
 * `source` is the literal as written. Integer checks see an object, not a number, so
 * `1711986400.0` fails them although it equals an integer.
 */
export class JsonNumber {
  constructor(
    readonly value: number,
    readonly source: string,
  ) {}

  /** JSON.stringify writes the number, as JCS does. */
  toJSON(): number {
    return this.value;
  }
}

export type JsonValue = null | boolean | number | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [member: string]: JsonValue;
}

export type StrictJsonResult =
  | { ok: true; value: JsonValue }
  | { ok: false; reason: string; offset: number };

class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

/**
 * Parses RFC 8259 JSON and additionally rejects duplicate member names, lone surrogates
 * (literal or `\uD800`-escaped), invalid UTF-8 (byte input), a byte-order mark, non-finite
 * numbers and nesting deeper than MAX_JSON_DEPTH. Objects are plain objects in document order.
 */
export function parseStrictJson(input: string | Uint8Array): StrictJsonResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      // ignoreBOM keeps a leading U+FEFF in the text, where the parser rejects it.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      return { ok: false, reason: 'invalid UTF-8', offset: 0 };
    }
  }
  try {
    return { ok: true, value: new Parser(text).parseDocument() };
  } catch (error) {
    if (error instanceof JsonSyntaxError) return { ok: false, reason: error.reason, offset: error.offset };
    throw error;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

function isDigit(unit: number): boolean {
  return unit >= 0x30 && unit <= 0x39;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue();
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  private fail(reason: string, offset = this.pos): never {
    throw new JsonSyntaxError(reason, offset);
  }

  private skipWhitespace(): void {
    const { text } = this;
    let unit = text.charCodeAt(this.pos);
    while (unit === 0x20 || unit === 0x0a || unit === 0x0d || unit === 0x09) unit = text.charCodeAt(++this.pos);
  }

  private parseValue(): JsonValue {
    const unit = this.text.charCodeAt(this.pos);
    if (unit === QUOTE) return this.parseString();
    if (unit === 0x7b) return this.parseObject();
    if (unit === 0x5b) return this.parseArray();
    if (unit === 0x2d || isDigit(unit)) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    return this.fail(Number.isNaN(unit) ? 'unexpected end of input' : 'unexpected character');
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++;
    this.skipWhitespace();
  }

  private parseObject(): JsonObject {
    this.enter();
    const object: JsonObject = {};
    if (this.text.charCodeAt(this.pos) === 0x7d) return this.leave(object);
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail('expected a member name');
      const nameOffset = this.pos;
      const name = this.parseString();
      if (Object.hasOwn(object, name)) this.fail(`duplicate member name ${quoteName(name)}`, nameOffset);
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail('expected ":"');
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      // Plain assignment to "__proto__" would replace the prototype instead of adding a member.
      if (name === '__proto__') Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
      else object[name] = value;
      if (this.endOfContainer(0x7d)) return this.leave(object);
    }
  }

  private parseArray(): JsonValue[] {
    this.enter();
    const array: JsonValue[] = [];
    if (this.text.charCodeAt(this.pos) === 0x5d) return this.leave(array);
    for (;;) {
      array.push(this.parseValue());
      if (this.endOfContainer(0x5d)) return this.leave(array);
    }
  }

  /** After a member or element: true at the closing bracket, false after a comma. */
  private endOfContainer(closing: number): boolean {
    this.skipWhitespace();
    const unit = this.text.charCodeAt(this.pos);
    if (unit === closing) return true;
    if (unit !== 0x2c) this.fail('expected "," or a closing bracket');
    this.pos++;
    this.skipWhitespace();
    return false;
  }

  private leave<T>(container: T): T {
    this.depth--;
    this.pos++;
    return container;
  }

  private parseString(): string {
    const { text } = this;
    let pos = this.pos + 1;
    let chunkStart = pos;
    let out = '';
    for (;;) {
      const unit = text.charCodeAt(pos);
      if (unit === QUOTE) {
        this.pos = pos + 1;
        return out + text.slice(chunkStart, pos);
      }
      if (unit === BACKSLASH) {
        out += text.slice(chunkStart, pos) + this.parseEscape(pos);
        pos = this.pos;
        chunkStart = pos;
      } else if (Number.isNaN(unit)) {
        this.fail('unterminated string', pos);
      } else if (unit < 0x20) {
        this.fail('control character in string', pos);
      } else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(pos + 1))) {
        pos += 2;
      } else if (isHighSurrogate(unit) || isLowSurrogate(unit)) {
        this.fail('lone surrogate in string', pos);
      } else {
        pos++;
      }
    }
  }

  /** Decodes the escape at `pos` (a backslash) and moves `this.pos` past it. */
  private parseEscape(pos: number): string {
    const letter = this.text[pos + 1];
    const simple = letter === undefined ? undefined : SIMPLE_ESCAPES[letter];
    if (simple !== undefined) {
      this.pos = pos + 2;
      return simple;
    }
    if (letter !== 'u') this.fail('invalid escape', pos);
    const unit = this.hex4(pos + 2);
    if (isLowSurrogate(unit)) this.fail('lone surrogate escape', pos);
    if (!isHighSurrogate(unit)) {
      this.pos = pos + 6;
      return String.fromCharCode(unit);
    }
    // An escaped high surrogate must be followed by an escaped low surrogate (SPEC §3).
    const low = this.text.startsWith('\\u', pos + 6) ? this.hex4(pos + 8) : -1;
    if (!isLowSurrogate(low)) this.fail('lone surrogate escape', pos);
    this.pos = pos + 12;
    return String.fromCharCode(unit, low);
  }

  private hex4(pos: number): number {
    const digits = this.text.slice(pos, pos + 4);
    if (!/^[0-9A-Fa-f]{4}$/.test(digits)) this.fail('invalid \\u escape', pos);
    return Number.parseInt(digits, 16);
  }

  private parseNumber(): number | JsonNumber {
    const { text } = this;
    const start = this.pos;
    let pos = start;
    let isIntegerLiteral = true;
    if (text.charCodeAt(pos) === 0x2d) pos++;
    if (text.charCodeAt(pos) === 0x30) pos++;
    else if (isDigit(text.charCodeAt(pos))) pos = this.skipDigits(pos);
    else this.fail('invalid number', pos);
    if (text.charCodeAt(pos) === 0x2e) {
      isIntegerLiteral = false;
      pos = this.requireDigits(pos + 1);
    }
    const exponent = text.charCodeAt(pos);
    if (exponent === 0x65 || exponent === 0x45) {
      isIntegerLiteral = false;
      const sign = text.charCodeAt(pos + 1);
      pos = this.requireDigits(sign === 0x2b || sign === 0x2d ? pos + 2 : pos + 1);
    }
    this.pos = pos;
    const source = text.slice(start, pos);
    const value = Number(source);
    if (!Number.isFinite(value)) this.fail('number is not a finite double', start);
    return isIntegerLiteral && Number.isSafeInteger(value) ? value : new JsonNumber(value, source);
  }

  private requireDigits(pos: number): number {
    if (!isDigit(this.text.charCodeAt(pos))) this.fail('invalid number', pos);
    return this.skipDigits(pos);
  }

  private skipDigits(pos: number): number {
    while (isDigit(this.text.charCodeAt(pos))) pos++;
    return pos;
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const MAX_QUOTED_NAME = 64;

/** A member name for a diagnostic: quoted and cut short, since it comes from the input. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > MAX_QUOTED_NAME ? `${name.slice(0, MAX_QUOTED_NAME)}…` : name);
}

/** A JSON object (not an array, not null). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

/**
 * An integer written without fraction or exponent, safe, and at least `minimum`: the rule for
 * AITP timestamps (SPEC §3). A JsonNumber such as `1711986400.0` fails it.
 */
export function isIntegerAtLeast(value: JsonValue | undefined, minimum: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= minimum;
}

/** One member of a closed object shape: whether it must be present and how to check it. */
export interface MemberRule {
  required: boolean;
  check: (value: JsonValue) => boolean;
}

export interface MemberProblem {
  kind: 'unknown' | 'missing' | 'invalid';
  name: string;
}

/** "unknown member /manifest/"x"": a bounded description for logs. */
export function describeMemberProblem(problem: MemberProblem, path: string): string {
  return `${problem.kind} member ${path}/${quoteName(problem.name)}`;
}

/**
 * Checks `object` against a closed set of members: unknown members first (the schemas say
 * `additionalProperties: false`), then missing or failing ones in rule order.
 */
export function findMemberProblem(object: JsonObject, rules: Readonly<Record<string, MemberRule>>): MemberProblem | null {
  for (const name of Object.keys(object)) {
    if (!Object.hasOwn(rules, name)) return { kind: 'unknown', name };
  }
  for (const name of Object.keys(rules)) {
    const value = Object.hasOwn(object, name) ? object[name] : undefined;
    if (value === undefined) {
      if (rules[name]?.required) return { kind: 'missing', name };
    } else if (!rules[name]?.check(value)) {
      return { kind: 'invalid', name };
    }
  }
  return null;
}
