/**
 * What a client offers in its opening handshake whatever the transport (RFC 6455 §4.1 over
 * HTTP/1.1, RFC 8441 §4-5 over HTTP/2): the version, the subprotocols, the extensions.
 */
import { type ExtensionParams, parseExtensionHeader } from '../extensions/extension-header.js';
import type { HeaderMap } from '../http1/head-parser.js';
import { HandshakeRejection } from '../http1/rejection.js';
import { isToken, trimOptionalWhitespace } from '../http1/token.js';

/** What the client offered, checked. */
export interface HandshakeOffers {
  /** Subprotocols the client offered, in its order of preference. */
  readonly protocols: string[];
  /** Extensions the client offered, in order. */
  readonly extensions: ExtensionParams[];
}

/**
 * Check `Sec-WebSocket-Version`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`.
 * Throws a HandshakeRejection: 426 with `Sec-WebSocket-Version: 13` for a missing or other
 * version (§4.2.2), 400 for a malformed subprotocol or extension list.
 */
export function readHandshakeOffers(headers: HeaderMap): HandshakeOffers {
  if (headers['sec-websocket-version'] !== '13') {
    // §4.2.2: answer an unsupported version with 426 and the versions we support.
    throw new HandshakeRejection(426, 'unsupported WebSocket version; this server speaks version 13', {
      'Sec-WebSocket-Version': '13',
    });
  }
  const protocols: string[] = [];
  const protocolHeader = headers['sec-websocket-protocol'];
  if (protocolHeader !== undefined) {
    for (const element of protocolHeader.split(',')) {
      const protocol = trimOptionalWhitespace(element);
      // §4.1: subprotocol values are tokens, and each is offered once.
      if (!isToken(protocol)) throw new HandshakeRejection(400, 'invalid Sec-WebSocket-Protocol header');
      if (protocols.includes(protocol)) throw new HandshakeRejection(400, `subprotocol "${protocol}" offered twice`);
      protocols.push(protocol);
    }
  }
  let extensions: ExtensionParams[] = [];
  const extensionHeader = headers['sec-websocket-extensions'];
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensionHeader(extensionHeader);
    } catch (error) {
      throw new HandshakeRejection(400, (error as Error).message);
    }
  }
  return { protocols, extensions };
}
