/** The client's options: what connect() and the WHATWG WebSocket accept. */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { ClientExtensionFactory } from '../../protocol/extensions/extension.js';
import type { PerMessageDeflateOptions } from '../../protocol/extensions/permessage-deflate/params.js';
import type { ConnectionOptions } from '../connection/options.js';

export interface ConnectOptions extends ConnectionOptions {
  /** Extra request headers (e.g. Authorization, Cookie). */
  headers?: Record<string, string | string[]>;
  /** Subprotocols to offer, in order of preference. */
  protocols?: string | readonly string[];
  /** The Origin header, as a browser would send it. */
  origin?: string;
  /** Time allowed for connecting and the whole handshake, ms; default 10000. */
  handshakeTimeout?: number;
  /** Largest response head in bytes; default 16 KiB. */
  maxHeaderSize?: number;
  /** TLS options for wss:// (ca, cert, rejectUnauthorized, servername...). */
  tls?: TlsConnectionOptions;
  /** Offer permessage-deflate (RFC 7692); `true` for the defaults. Default: off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Other per-message extensions to offer. */
  extensions?: readonly ClientExtensionFactory[];
  /** Abort the connection attempt. */
  signal?: AbortSignal;
  /**
   * The proxy to tunnel through: `http://[user:pass@]host:port` (HTTP CONNECT), `socks5://`
   * (the target's name resolved here) or `socks5h://` (resolved by the proxy), with optional
   * credentials. `false`: connect directly, whatever the environment says. Default: from
   * the environment (`HTTPS_PROXY` for wss:, `HTTP_PROXY` for ws:, `ALL_PROXY`, `NO_PROXY`;
   * README "Proxies").
   */
  proxy?: string | URL | false;
  /** Connect over this Unix socket instead of TCP (the URL still gives the Host and path). */
  socketPath?: string;
  /**
   * Open the WebSocket as a stream of an HTTP/2 connection (RFC 8441; wss:// only, straight to
   * the server: not through a proxy or a Unix socket), shared with the other WebSockets to the
   * same origin. Fails with WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED when the server does not offer
   * it. Default: false (HTTP/1.1 upgrade).
   */
  http2?: boolean;
}

export const DEFAULT_CLIENT_HANDSHAKE_TIMEOUT = 10_000;
