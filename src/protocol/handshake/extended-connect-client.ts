/**
 * The client side of the opening handshake over HTTP/2 (RFC 8441 §4-5): the extended CONNECT
 * request for a handshake made by createClientHandshake, and the check of the response. The
 * HTTP/2 counterpart of formatUpgradeRequest and checkHandshakeResponse; pure functions over
 * header lists.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import { parseExtensionHeader } from '../extensions/extension-header.js';
import type { HeaderMap, HttpResponseHead } from '../http1/head-parser.js';
import { statusText } from '../http1/response.js';
import type { ClientHandshake } from './client-request.js';
import { acceptExtensions, type ClientHandshakeResult, selectedProtocol } from './client-response.js';
import { CONNECTION_SPECIFIC_FIELDS, type Http2HeaderList, readHttp2HeaderList } from './extended-connect.js';

/**
 * The header list of the extended CONNECT (RFC 8441 §4-5): `:protocol websocket`, the target's
 * scheme, authority and path, Sec-WebSocket-Version 13 and the offers; no Sec-WebSocket-Key (§5).
 * The handshake's extra fields go with lowercase names (RFC 9113 §8.2.1), without those that
 * only describe an HTTP/1.1 connection (§8.2.2) and without Host (`:authority` says it).
 */
export function buildExtendedConnectRequest(handshake: ClientHandshake, authority: string, path: string, scheme = 'https'): Http2HeaderList {
  const headers: Http2HeaderList = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': scheme,
    ':authority': authority,
    ':path': path,
    'sec-websocket-version': '13',
  };
  if (handshake.protocols.length > 0) headers['sec-websocket-protocol'] = handshake.protocols.join(', ');
  if (handshake.extensionOffer !== '') headers['sec-websocket-extensions'] = handshake.extensionOffer;
  for (const name of Object.keys(handshake.headers)) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC_FIELDS.has(lower) || lower === 'host') continue;
    const value = handshake.headers[name]!;
    headers[lower] = typeof value === 'string' ? value : [...value];
  }
  return headers;
}

/**
 * Check the response to an extended CONNECT and settle the subprotocol and extension (RFC 8441
 * §5: the subprotocol and extension rules of RFC 6455 §4.1 apply; there is no accept key).
 * `response.headers` holds the regular fields. Throws a WebSocketError (WSF_ERR_HANDSHAKE_*).
 */
export function checkExtendedConnectResponse(handshake: ClientHandshake, response: HttpResponseHead, body = ''): ClientHandshakeResult {
  // RFC 9110 §9.3.6: any 2xx answer to a CONNECT establishes the tunnel (servers send 200).
  if (response.status < 200 || response.status > 299) {
    const snippet = body.trim().slice(0, 200);
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_STATUS,
      `server answered ":status ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}" to the extended CONNECT instead of 200` +
        (snippet === '' ? '' : `: ${JSON.stringify(snippet)}`),
    );
  }
  const protocol = selectedProtocol(response, handshake.protocols);
  const extensionHeader = response.headers['sec-websocket-extensions'];
  const accepted = extensionHeader === undefined ? [] : parseExtensionHeader(extensionHeader);
  return { protocol, extension: acceptExtensions(handshake.extensions, accepted) };
}

/**
 * The response header list as received (flat [name, value, ...]) in the form an HTTP/1.1 response
 * head has: `:status` as the status (with its usual reason phrase: HTTP/2 has none), the regular
 * fields as `headers`. `httpVersion` is "2".
 */
export function readExtendedConnectResponse(raw: readonly string[]): HttpResponseHead {
  const list = readHttp2HeaderList(raw);
  const status = Number(list.headers[':status']);
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const name of Object.keys(list.headers)) {
    if (name.charCodeAt(0) === 0x3a /* ':' */) continue;
    headers[name] = list.headers[name]!;
    headerCounts[name] = list.headerCounts[name]!;
  }
  // The reason phrases known here are those of success and of refusals.
  const reason = status === 200 ? 'OK' : status >= 400 ? statusText(status) : '';
  return { httpVersion: '2', status, statusText: reason, headers, headerCounts };
}
