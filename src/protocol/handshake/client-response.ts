/**
 * The client side of the opening handshake, response half (RFC 6455 §4.1, client
 * requirements 1-6): is this a valid acceptance of what we offered? Pure functions.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import { type ExtensionParams, parseExtensionHeader } from '../extensions/extension-header.js';
import type { ClientExtensionFactory, MessageExtension } from '../extensions/extension.js';
import type { HttpResponseHead } from '../http1/head-parser.js';
import { headerHasToken } from '../http1/token.js';
import { computeAcceptKey } from './accept-key.js';
import type { ClientHandshake } from './client-request.js';

export interface AcceptedResponse {
  /** The subprotocol the server selected, or undefined. */
  readonly protocol: string | undefined;
  /** The extensions the server accepted. */
  readonly extensions: ExtensionParams[];
}

/** The outcome of a successful handshake, ready for a connection. */
export interface ClientHandshakeResult {
  readonly protocol: string | undefined;
  readonly extension: MessageExtension | null;
}

/**
 * Check a server's handshake response (RFC 6455 §4.1, client requirements 1-6). Throws a
 * WebSocketError whose message names what was wrong (status line, header, body snippet).
 */
export function validateUpgradeResponse(
  response: HttpResponseHead,
  key: string,
  offeredProtocols: readonly string[],
  body = '',
): AcceptedResponse {
  const { headers, headerCounts } = response;
  if (response.status !== 101) {
    const snippet = body.trim().slice(0, 200);
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_STATUS,
      `server answered "HTTP/${response.httpVersion} ${response.status} ${response.statusText}" instead of 101` +
        (snippet === '' ? '' : `: ${JSON.stringify(snippet)}`),
    );
  }
  if (!headerHasToken(headers['upgrade'], 'websocket')) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_UPGRADE,
      `invalid Upgrade header in the response: ${JSON.stringify(headers['upgrade'] ?? null)}`,
    );
  }
  if (!headerHasToken(headers['connection'], 'upgrade')) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_UPGRADE,
      `invalid Connection header in the response: ${JSON.stringify(headers['connection'] ?? null)}`,
    );
  }
  const accept = headers['sec-websocket-accept'];
  const expected = computeAcceptKey(key);
  if (accept !== expected || headerCounts['sec-websocket-accept'] !== 1) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_ACCEPT,
      `invalid Sec-WebSocket-Accept: got ${JSON.stringify(accept ?? null)}, expected "${expected}"`,
    );
  }
  return { protocol: selectedProtocol(response, offeredProtocols), extensions: acceptedExtensions(response) };
}

/** §4.1: the server must select one of the offered subprotocols, or none (over HTTP/2 too, RFC 8441 §5). */
export function selectedProtocol(response: HttpResponseHead, offered: readonly string[]): string | undefined {
  const protocol = response.headers['sec-websocket-protocol'];
  if (protocol === undefined) return undefined;
  if (response.headerCounts['sec-websocket-protocol'] !== 1 || !offered.includes(protocol)) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_SUBPROTOCOL,
      offered.length === 0
        ? `server selected subprotocol "${protocol}" but none was offered`
        : `server selected subprotocol "${protocol}", not one of those offered (${offered.join(', ')})`,
    );
  }
  return protocol;
}

function acceptedExtensions(response: HttpResponseHead): ExtensionParams[] {
  const header = response.headers['sec-websocket-extensions'];
  return header === undefined ? [] : parseExtensionHeader(header);
}

/** The server may accept at most what we offered, each extension once (RFC 6455 §9.1). */
export function acceptExtensions(
  factories: readonly ClientExtensionFactory[],
  accepted: readonly ExtensionParams[],
): MessageExtension | null {
  let extension: MessageExtension | null = null;
  const seen = new Set<string>();
  for (const response of accepted) {
    const factory = factories.find((f) => f.name === response.name);
    if (factory === undefined) {
      throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `server accepted extension "${response.name}" that was not offered`);
    }
    if (seen.has(response.name)) {
      throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `server accepted extension "${response.name}" twice`);
    }
    seen.add(response.name);
    extension = factory.accept(response);
  }
  return extension;
}

/**
 * Check an HTTP/1.1 response to a handshake made by createClientHandshake and settle the
 * subprotocol and extension. Throws a WebSocketError (WSF_ERR_HANDSHAKE_*).
 */
export function checkHandshakeResponse(handshake: ClientHandshake, response: HttpResponseHead, body = ''): ClientHandshakeResult {
  const accepted = validateUpgradeResponse(response, handshake.key, handshake.protocols, body);
  return { protocol: accepted.protocol, extension: acceptExtensions(handshake.extensions, accepted.extensions) };
}
