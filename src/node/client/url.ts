/**
 * WebSocket URLs (RFC 6455 §3): ws: and wss:, with http: and https: mapped as browsers do, and
 * ws+unix: / wss+unix: for a server on a Unix socket (the form the ws package uses:
 * `ws+unix:///tmp/app.sock:/path?query`, the socket path up to the first ':').
 */
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';

const UNIX_SCHEMES = new Set(['ws+unix:', 'wss+unix:']);

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
  const unix = UNIX_SCHEMES.has(url.protocol);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && !unix) {
    throw new WebSocketError(ErrorCode.INVALID_URL, `the URL scheme must be ws:, wss:, ws+unix: or wss+unix:, got ${url.protocol}`);
  }
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs.
  if (url.hash !== '') throw new WebSocketError(ErrorCode.INVALID_URL, 'a WebSocket URL cannot have a fragment');
  if (unix) {
    if (url.host !== '') throw new WebSocketError(ErrorCode.INVALID_URL, `a ${url.protocol} URL has no host: write ${url.protocol}///path/to.sock:/path`);
    if (unixSocketPath(url) === '') throw new WebSocketError(ErrorCode.INVALID_URL, `the ${url.protocol} URL names no socket path`);
  } else if (url.hostname === '') {
    throw new WebSocketError(ErrorCode.INVALID_URL, 'the URL has no host');
  }
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
  /** A Unix socket to connect to instead of host and port (ws+unix: URLs, the `socketPath` option). */
  readonly socketPath?: string | undefined;
}

export function targetOf(url: URL): WebSocketTarget {
  if (UNIX_SCHEMES.has(url.protocol)) {
    const whole = url.pathname;
    const colon = whole.indexOf(':');
    const path = colon === -1 ? '/' : whole.slice(colon + 1) || '/';
    // No host names a Unix socket; HTTP/1.1 still needs a Host header (RFC 9112 §3.2), so
    // 'localhost', as the ws package and node:http send.
    return {
      host: 'localhost',
      port: 0,
      secure: url.protocol === 'wss+unix:',
      authority: 'localhost',
      path: `${path}${url.search}`,
      socketPath: unixSocketPath(url),
    };
  }
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

/** The socket path of a ws+unix: URL: its path up to the first ':', percent-decoded. */
function unixSocketPath(url: URL): string {
  const whole = url.pathname;
  const colon = whole.indexOf(':');
  return decodeURIComponent(colon === -1 ? whole : whole.slice(0, colon));
}
