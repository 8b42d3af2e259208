// eslint-disable-next-line no-control-regex -- JSON must escape U+0000–U+001F, so the check names them
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * True when `text` holds something JSON must escape (a control character, `"`, `\`) or a
 * surrogate half (which JCS must check for a lone one): otherwise `"${text}"` is its JSON form.
 * Cheaper than JSON.stringify on the plain strings that make up most API text.
 */
export function needsJsonEscape(text: string): boolean {
  return NEEDS_ESCAPE.test(text);
}

/** A string (or null) as JSON text. */
export function jsonString(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  return needsJsonEscape(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * The same text as one flat string. V8 keeps a concatenation as a tree of its pieces, and every
 * join or write walks that tree again: for text kept and sent many times (rendered rows) the copy
 * is made once. The round trip is exact for JSON text, which has no lone surrogates.
 */
export function flatText(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
