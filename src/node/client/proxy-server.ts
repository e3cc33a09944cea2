/**
 * A proxy named by a URL (the `proxy` option, or an environment variable): its protocol,
 * address and credentials, and how it is named in errors (never with its credentials).
 */
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';

export type ProxyProtocol = 'http' | 'socks5' | 'socks5h';

export interface ProxyServer {
  readonly protocol: ProxyProtocol;
  /** Without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** The proxy's URL without credentials, for messages: `http://127.0.0.1:3128`. */
  readonly label: string;
}

/** The port when the URL has none: 80 for http: (as URLs have it), 1080 for SOCKS (RFC 1928 §3). */
const DEFAULT_PORT: Readonly<Record<ProxyProtocol, number>> = { http: 80, socks5: 1080, socks5h: 1080 };

/**
 * Parse a proxy URL. A value without a scheme (`proxy.example:3128`) is an HTTP proxy, as curl
 * reads it. Throws WSF_ERR_INVALID_URL (with the credentials left out of the message).
 */
export function parseProxyUrl(input: string | URL): ProxyServer {
  let text = typeof input === 'string' ? input.trim() : input.href;
  if (typeof input === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebSocketError(ErrorCode.INVALID_URL, `invalid proxy URL: ${withoutCredentials(text)}`);
  }
  const protocol = url.protocol.slice(0, -1).toLowerCase();
  if (protocol !== 'http' && protocol !== 'socks5' && protocol !== 'socks5h') {
    throw new WebSocketError(ErrorCode.INVALID_URL, `unsupported proxy scheme ${url.protocol} (use http:, socks5: or socks5h:)`);
  }
  if (url.hostname === '') throw new WebSocketError(ErrorCode.INVALID_URL, `the proxy URL has no host: ${withoutCredentials(text)}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? DEFAULT_PORT[protocol] : Number(url.port);
  const credentials =
    url.username === '' && url.password === ''
      ? undefined
      : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return { protocol, host, port, credentials, label: `${protocol}://${url.hostname}:${port}` };
}

/** A URL's text with any `user:pass@` removed, for messages. */
function withoutCredentials(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//');
}
