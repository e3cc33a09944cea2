/** WebSocket URLs (RFC 6455 §3): ws: and wss:, with http: and https: mapped as browsers do. */
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';

/** Parse and check a WebSocket URL. Throws WSF_ERR_INVALID_URL. */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new WebSocketError(ErrorCode.INVALID_URL, `invalid URL: ${String(input)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new WebSocketError(ErrorCode.INVALID_URL, `the URL scheme must be ws: or wss:, got ${url.protocol}`);
  }
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs.
  if (url.hash !== '') throw new WebSocketError(ErrorCode.INVALID_URL, 'a WebSocket URL cannot have a fragment');
  if (url.hostname === '') throw new WebSocketError(ErrorCode.INVALID_URL, 'the URL has no host');
  return url;
}

/** Where a URL points: host (without IPv6 brackets), port, and whether TLS is used. */
export interface WebSocketTarget {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** The Host header value. */
  readonly authority: string;
  /** Path and query, as sent in the request line. */
  readonly path: string;
}

export function targetOf(url: URL): WebSocketTarget {
  const secure = url.protocol === 'wss:';
  return {
    // URL keeps brackets around IPv6 literals; sockets want them bare.
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    secure,
    authority: url.host,
    path: `${url.pathname || '/'}${url.search}`,
  };
}
