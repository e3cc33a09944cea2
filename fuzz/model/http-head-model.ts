/**
 * HTTP/1.1 heads read for the models (RFC 9112 §2-§5), independently of src/protocol/http1/: lines
 * end with CRLF, a field is a token, a colon and a value without control characters, and
 * list headers split on commas with spaces and tabs as optional whitespace.
 */
import { isToken } from './http-token.js';

/** Each field's values in order, by lowercased name. */
export type HeadFields = ReadonlyMap<string, readonly string[]>;

/** The start line and the fields of a head (which ends with an empty line), or why it is malformed. */
export function readHead(head: Buffer): { startLine: string; fields: HeadFields } | string {
  const text = head.toString('latin1');
  if (!text.endsWith('\r\n\r\n')) return 'the head does not end with an empty line';
  const lines = text.slice(0, -4).split('\r\n');
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.slice(0, colon))) return `malformed header line ${JSON.stringify(line)}`;
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    // RFC 9110 §5.5: no control characters in a value but HTAB.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `control character in ${JSON.stringify(line)}`;
    const name = line.slice(0, colon).toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return { startLine: lines[0]!, fields };
}

/** The elements of a comma-separated list header (RFC 9110 §5.6.1, §5.6.3: OWS is spaces and tabs), empty ones dropped. */
export function listElements(values: readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  return values
    .flatMap((value) => value.split(','))
    .map((element) => element.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((element) => element !== '');
}

/** Whether a list header has `token` as an element, case-insensitively. */
export function listHas(values: readonly string[] | undefined, token: string): boolean {
  return listElements(values).some((element) => element.toLowerCase() === token);
}

/** The field's value when it appears exactly once, else null. */
export function single(fields: HeadFields, name: string): string | null {
  const values = fields.get(name);
  return values !== undefined && values.length === 1 ? values[0]! : null;
}
