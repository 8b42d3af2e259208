import { readFileSync } from 'node:fs';

// `.env` files in dotenv syntax (OPERATIONS.md §1): `KEY=value`, optional `export ` prefix,
// `#` comment lines, single, double or backtick quotes (a quoted value may span lines), and
// `\n` `\r` `\t` `\"` `\\` escapes inside double quotes only. An unquoted value ends at a `#`
// that follows whitespace, so a `#` inside a secret or URL survives. Lines that are not
// assignments are ignored; a repeated key keeps its last value.

const ASSIGNMENT = /[ \t]*(?:export[ \t]+)?([A-Za-z_][\w.-]*)[ \t]*=[ \t]*/y;
const QUOTED: Record<string, RegExp> = {
  '"': /"((?:\\[\s\S]|[^"\\])*)"/y,
  "'": /'([^']*)'/y,
  '`': /`([^`]*)`/y,
};
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

function lineEndFrom(text: string, pos: number): number {
  const end = text.indexOf('\n', pos);
  return end === -1 ? text.length : end;
}

function unescapeDoubleQuoted(value: string): string {
  return value.replace(/\\([\s\S])/g, (escape, char: string) => ESCAPES[char] ?? escape);
}

/** A quoted value at `pos`, or undefined when there is no (terminated) quote there. */
function readQuoted(text: string, pos: number): { value: string; end: number } | undefined {
  const quote = text[pos];
  const pattern = quote === undefined ? undefined : QUOTED[quote];
  if (pattern === undefined) return undefined;
  pattern.lastIndex = pos;
  const match = pattern.exec(text);
  if (match === null) return undefined;
  const inner = match[1] ?? '';
  return { value: quote === '"' ? unescapeDoubleQuoted(inner) : inner, end: pattern.lastIndex };
}

/** `afterBlank`: whitespace came between `=` and the value, so a leading `#` opens a comment. */
function readUnquoted(line: string, afterBlank: boolean): string {
  if (afterBlank && line.startsWith('#')) return '';
  const comment = line.search(/\s#/);
  return (comment === -1 ? line : line.slice(0, comment)).trim();
}

export function parseEnvFile(text: string): Record<string, string> {
  const source = text.replace(/^\uFEFF/, '');
  const result: Record<string, string> = {};
  let pos = 0;
  while (pos < source.length) {
    ASSIGNMENT.lastIndex = pos;
    const match = ASSIGNMENT.exec(source);
    if (match === null || match[1] === undefined) {
      pos = lineEndFrom(source, pos) + 1;
      continue;
    }
    const valueStart = ASSIGNMENT.lastIndex;
    const quoted = readQuoted(source, valueStart);
    if (quoted !== undefined) {
      result[match[1]] = quoted.value;
      pos = lineEndFrom(source, quoted.end) + 1;
    } else {
      const end = lineEndFrom(source, valueStart);
      result[match[1]] = readUnquoted(source.slice(valueStart, end), /[ \t]$/.test(match[0]));
      pos = end + 1;
    }
  }
  return result;
}

/** The variables of an env file; `{}` when the file does not exist. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parseEnvFile(text);
}
