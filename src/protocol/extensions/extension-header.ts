import { ErrorCode, WebSocketError } from '../errors.js';
import { isToken } from '../http1/token.js';

/**
 * The `Sec-WebSocket-Extensions` header (RFC 6455 §9.1): parsing and formatting.
 *
 * RFC 6455 §9: extensions are negotiated with `Sec-WebSocket-Extensions`. An offer or a
 * response is a list of extensions, each a name with parameters; a parameter has a value
 * or is a bare flag. Parameters keep their order and duplicates so an extension can refuse
 * a duplicated parameter (RFC 7692 §7 requires that).
 */
export interface ExtensionParams {
  readonly name: string;
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}

/**
 * Parse a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1):
 *   extension-list = 1#extension ; extension = token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 * Throws WSF_ERR_HANDSHAKE_EXTENSION on anything malformed.
 */
export function parseExtensionHeader(header: string): ExtensionParams[] {
  const result: ExtensionParams[] = [];
  let i = 0;
  const n = header.length;
  const fail = (why: string): never => {
    throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `invalid Sec-WebSocket-Extensions: ${why}`);
  };
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    if (i === start) fail(`expected a token at offset ${start}`);
    return header.slice(start, i);
  };
  // Empty list elements are allowed by the "#" rule (RFC 9110 §5.6.1): skip them.
  for (;;) {
    skipSpace();
    if (i >= n) break;
    if (header[i] === ',') {
      i++;
      continue;
    }
    const name = readToken();
    const params: Array<[string, string | true]> = [];
    skipSpace();
    while (i < n && header[i] === ';') {
      i++;
      skipSpace();
      const paramName = readToken();
      skipSpace();
      let value: string | true = true;
      if (header[i] === '=') {
        i++;
        skipSpace();
        if (header[i] === '"') {
          // quoted-string; RFC 6455 §9.1: its unescaped value must itself be a token.
          i++;
          let unquoted = '';
          for (;;) {
            if (i >= n) fail('unterminated quoted string');
            const c = header[i]!;
            if (c === '"') {
              i++;
              break;
            }
            if (c === '\\') {
              i++;
              if (i >= n) fail('unterminated quoted string');
            }
            unquoted += header[i];
            i++;
          }
          if (!isToken(unquoted)) fail(`quoted value "${unquoted}" is not a token`);
          value = unquoted;
        } else {
          value = readToken();
        }
        skipSpace();
      }
      params.push([paramName.toLowerCase(), value]);
    }
    result.push({ name: name.toLowerCase(), params });
    skipSpace();
    if (i >= n) break;
    if (header[i] !== ',') fail(`unexpected "${header[i]}" at offset ${i}`);
    i++;
  }
  return result;
}

export function formatExtension(extension: ExtensionParams): string {
  let text = extension.name;
  for (const [name, value] of extension.params) text += value === true ? `; ${name}` : `; ${name}=${value}`;
  return text;
}

