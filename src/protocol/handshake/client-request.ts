/**
 * The client side of the opening handshake, request half (RFC 6455 §4.1): what to offer and
 * how to say it over HTTP/1.1. Pure functions; opening the transport is node/'s job.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import { formatExtension } from '../extensions/extension-header.js';
import type { ClientExtensionFactory } from '../extensions/extension.js';
import { formatHeaderFields, type HeaderFields } from '../http1/response.js';
import { isToken } from '../http1/token.js';
import { generateKey } from './accept-key.js';

export interface ClientHandshakeOptions {
  /** Subprotocols to offer, in order of preference. */
  readonly protocols?: readonly string[];
  /** Per-message extensions to offer (permessage-deflate: `clientPerMessageDeflate()`). */
  readonly extensions?: readonly ClientExtensionFactory[];
  /** The Origin header, as a browser would send it. */
  readonly origin?: string;
  /** Extra request header fields (Authorization, Cookie...). */
  readonly headers?: HeaderFields;
}

/** One opening handshake in progress: what was offered, to check the response against. */
export interface ClientHandshake {
  /** Sec-WebSocket-Key (HTTP/1.1 only; RFC 8441 has none). */
  readonly key: string;
  readonly protocols: readonly string[];
  readonly extensions: readonly ClientExtensionFactory[];
  /** The `Sec-WebSocket-Extensions` offer, '' for none. */
  readonly extensionOffer: string;
  readonly origin: string | undefined;
  readonly headers: HeaderFields;
}

/** Check the options and make the offer. Throws WSF_ERR_INVALID_ARGUMENT for an invalid subprotocol list or header. */
export function createClientHandshake(options: ClientHandshakeOptions = {}): ClientHandshake {
  const protocols = options.protocols ?? [];
  checkProtocols(protocols);
  const extensions = options.extensions ?? [];
  const headers: Record<string, string | readonly string[]> = { ...options.headers };
  if (options.origin !== undefined) headers['Origin'] = options.origin;
  formatHeaderFields(headers); // checks names and values before anything is sent
  return {
    key: generateKey(),
    protocols,
    extensions,
    extensionOffer: extensions.flatMap((factory) => factory.offer()).map(formatExtension).join(', '),
    origin: options.origin,
    headers,
  };
}

function checkProtocols(protocols: readonly string[]): void {
  for (const protocol of protocols) {
    // §4.1: each subprotocol is a token, offered once.
    if (!isToken(protocol)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid subprotocol "${protocol}"`);
  }
  if (new Set(protocols).size !== protocols.length) {
    throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a subprotocol is listed twice');
  }
}

export interface ClientRequestOptions {
  /** Host header value ("example.com:8080"). */
  host: string;
  /** Path and query ("/chat?x=1"). */
  path: string;
  key: string;
  protocols?: readonly string[];
  /** Sec-WebSocket-Extensions offer. */
  extensions?: string;
  headers?: HeaderFields;
}

/** The client's opening handshake request over HTTP/1.1 (RFC 6455 §4.1). */
export function buildClientRequest(options: ClientRequestOptions): string {
  let request =
    `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${options.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (options.protocols !== undefined && options.protocols.length > 0) {
    checkProtocols(options.protocols);
    request += `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    request += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  if (options.headers !== undefined) request += formatHeaderFields(options.headers);
  return request + '\r\n';
}

/** The HTTP/1.1 request for a handshake made by createClientHandshake. */
export function formatUpgradeRequest(handshake: ClientHandshake, host: string, path: string): string {
  return buildClientRequest({
    host,
    path,
    key: handshake.key,
    protocols: handshake.protocols,
    extensions: handshake.extensionOffer,
    headers: handshake.headers,
  });
}
