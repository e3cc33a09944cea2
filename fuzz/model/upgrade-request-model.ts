/**
 * RFC 6455 §4.2.1 read straight from the bytes of a request head, independently of src/protocol's
 * parser: what a request the server accepted must be. Returns why it is not, or null.
 */
import { isToken } from './http-token.js';

export interface ReadRequest {
  readonly target: string;
  /** Values of each header line, by lowercased name, in order. */
  readonly fields: ReadonlyMap<string, readonly string[]>;
}

const REQUEST_LINE = /^GET ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;

/** The request line and header fields, or why they are malformed (RFC 9112 §3, §5). */
export function readRequestHead(head: Buffer): ReadRequest | string {
  const text = head.toString('latin1');
  if (!text.endsWith('\r\n\r\n')) return 'the head does not end with an empty line';
  const lines = text.slice(0, -4).split('\r\n');
  const match = REQUEST_LINE.exec(lines[0]!);
  if (match === null) return `request line ${JSON.stringify(lines[0])} is not "GET target HTTP/x.y"`;
  const major = Number(match[2]);
  const minor = Number(match[3]);
  // §4.2.1 (1): "An HTTP/1.1 or higher GET request".
  if (major < 1 || (major === 1 && minor < 1)) return `HTTP/${major}.${minor} is older than 1.1`;
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
  return { target: match[1]!, fields };
}

/** The elements of a comma-separated list header (RFC 9110 §5.6.1: OWS is spaces and tabs), empty ones dropped. */
export function listElements(values: readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  return values
    .flatMap((value) => value.split(','))
    .map((element) => element.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter((element) => element !== '');
}

/** Why a request is not a valid opening handshake (§4.2.1 (1)-(6)), or null. */
export function upgradeRequestProblem(request: ReadRequest): string | null {
  const one = (name: string): string | null => {
    const values = request.fields.get(name);
    return values !== undefined && values.length === 1 ? values[0]! : null;
  };
  // (2) a Host header field (RFC 9112 §3.2: exactly one).
  const host = one('host');
  if (host === null || host === '') return 'not exactly one non-empty Host';
  // (3) Upgrade containing "websocket"; (4) Connection containing "Upgrade", case-insensitive.
  if (!listElements(request.fields.get('upgrade')).some((e) => e.toLowerCase() === 'websocket')) return 'Upgrade lacks websocket';
  if (!listElements(request.fields.get('connection')).some((e) => e.toLowerCase() === 'upgrade')) return 'Connection lacks Upgrade';
  // (5) Sec-WebSocket-Key: base64 of 16 bytes (§11.3.1: only once).
  const key = one('sec-websocket-key');
  if (key === null) return 'not exactly one Sec-WebSocket-Key';
  // RFC 4648 §4: the base64 alphabet, padded to a multiple of 4 characters.
  const wellFormed = /^[A-Za-z0-9+/]*={0,2}$/.test(key) && key.length % 4 === 0;
  if (!wellFormed || Buffer.from(key, 'base64').length !== 16) return `Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 bytes in base64`;
  // (6) Sec-WebSocket-Version: 13.
  if (one('sec-websocket-version') !== '13') return 'Sec-WebSocket-Version is not 13';
  return null;
}
