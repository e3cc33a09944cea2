/**
 * HTTP tokens and comma-separated lists (RFC 9110 §5.6): the grammar shared by header names,
 * subprotocol names and extension parameters.
 */

/** RFC 9110 §5.6.2 "tchar", by character code (below 128; everything above is not a tchar). */
export const IS_TCHAR: Uint8Array = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") IS_TCHAR[c.charCodeAt(0)] = 1;

/** Whether `value` is a non-empty RFC 9110 token. */
export function isToken(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7f || IS_TCHAR[code] === 0) return false;
  }
  return true;
}

/**
 * `text` without the optional whitespace around it: RFC 9110 §5.6.3 OWS is spaces and tabs only
 * (String.prototype.trim() would also remove U+00A0, which a latin1 head has as byte 0xA0).
 */
export function trimOptionalWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Whether a comma-separated header value contains `token` (case-insensitive, RFC 9110 §5.6.1). */
export function headerHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  // The usual case first: the header is just the token.
  if (value.length === token.length && value.toLowerCase() === token) return true;
  for (const element of value.split(',')) {
    if (trimOptionalWhitespace(element).toLowerCase() === token) return true;
  }
  return false;
}
