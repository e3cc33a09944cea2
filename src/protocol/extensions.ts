import { ErrorCode, WebSocketError } from './errors.js';

/**
 * RFC 6455 §9: extensions are negotiated with `Sec-WebSocket-Extensions`. An offer or a
 * response is a list of extensions, each a name with parameters; a parameter has a value
 * or is a bare flag. Parameters keep their order and duplicates so an extension can refuse
 * a duplicated parameter (RFC 7692 §7 requires that).
 */
export interface ExtensionParams {
  readonly name: string;
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}

/** RFC 7230 token characters ("tchar"). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
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

/**
 * A negotiated per-message extension that uses RSV1 (permessage-deflate is the one
 * wsforge ships). At most one such extension is active on a connection.
 *
 * Both directions work per message: `decode` receives the payload of each frame of a
 * message whose first frame had RSV1 set, `encode` a whole outgoing message. Callbacks may
 * run synchronously or later; the receiver pauses until they do, so messages stay in order.
 */
export interface MessageExtension {
  readonly name: string;
  /** The `Sec-WebSocket-Extensions` element this side agreed to. */
  readonly agreed: ExtensionParams;
  /**
   * Decode one frame's payload of a compressed message (`fin` on the last frame).
   * Must stop and fail with WSF_ERR_MESSAGE_TOO_BIG as soon as the output passes `limit`
   * bytes for this call, so a small input cannot inflate without bound.
   */
  decode(
    payload: Buffer,
    fin: boolean,
    limit: number,
    callback: (error: WebSocketError | null, output: Buffer[] | null) => void,
  ): void;
  /** Whether a message of this size is worth encoding (below a threshold it is sent as is). */
  shouldEncode(byteLength: number): boolean;
  /** The same for a text message given as a string (its UTF-8 size counts). */
  shouldEncodeText?(text: string): boolean;
  /** Encode a whole message; the callback receives the payload to send with RSV1 set. */
  encode(data: Buffer, callback: (error: WebSocketError | null, output: Buffer | null) => void): void;
  /**
   * Encode one fragment of a message sent in pieces (`first` and `fin` mark the ends); the
   * first frame carries RSV1. Optional: without it, fragmented messages are sent uncompressed.
   */
  encodeFragment?(
    data: Buffer,
    first: boolean,
    fin: boolean,
    callback: (error: WebSocketError | null, output: Buffer | null) => void,
  ): void;
  /** Release resources (zlib contexts); called once when the connection ends. */
  dispose(): void;
}

/** Server side of a negotiation: look at the client's offers for this extension name. */
export interface ServerExtensionFactory {
  readonly name: string;
  /**
   * `offers` are the client's offers with this name, in its order of preference.
   * Return the accepted extension, or null to decline. Throw WSF_ERR_HANDSHAKE_EXTENSION
   * for an offer that is malformed in a way that must fail the handshake.
   */
  accept(offers: readonly ExtensionParams[]): MessageExtension | null;
}

/** Client side of a negotiation: make the offer, then check the server's response. */
export interface ClientExtensionFactory {
  readonly name: string;
  offer(): ExtensionParams[];
  /** Check the server's response against the offer; throw WSF_ERR_HANDSHAKE_EXTENSION if invalid. */
  accept(response: ExtensionParams): MessageExtension;
}
