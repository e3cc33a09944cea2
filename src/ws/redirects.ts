/**
 * Following redirects as ws does (`followRedirects`, `maxRedirects`): a 3xx answer with a
 * Location header starts a new handshake to that URL. RFC 6455 §4.1 lets a client follow a
 * 3xx ("the client MAY redirect"); what it sends there is ws's rule, taken from curl 7.77:
 * credentials (Authorization, Cookie) are dropped when the host changes or HTTPS drops to
 * HTTP, and a Host header given by the user is dropped when the host changes. With a
 * 'redirect' listener nothing is dropped: the listener decides, on the request object.
 */

/** Where a WebSocket's first handshake went: what later redirects are compared with. */
export interface RedirectOrigin {
  /** host:port, or the socket path of a ws+unix: URL. */
  readonly hostOrSocket: string;
  readonly unix: boolean;
  readonly secure: boolean;
}

export function redirectOriginOf(url: URL): RedirectOrigin {
  const unix = url.protocol === 'ws+unix:' || url.protocol === 'wss+unix:';
  return { hostOrSocket: unix ? socketPathOf(url) : url.host, unix, secure: url.protocol === 'wss:' || url.protocol === 'wss+unix:' };
}

function socketPathOf(url: URL): string {
  const colon = url.pathname.indexOf(':');
  return colon === -1 ? url.pathname : url.pathname.slice(0, colon);
}

/**
 * The headers to send to `next`, redirected from the first handshake's `origin`: a copy of
 * `headers` (names lowercased) without the credentials the new host must not see.
 */
export function headersForRedirect(headers: Readonly<Record<string, string | string[]>>, origin: RedirectOrigin, next: URL): Record<string, string | string[]> {
  const target = redirectOriginOf(next);
  const sameHost = target.unix === origin.unix && target.hostOrSocket === origin.hostOrSocket;
  const copy = { ...headers };
  if (!sameHost || (origin.secure && !target.secure)) {
    delete copy['authorization'];
    delete copy['cookie'];
    if (!sameHost) delete copy['host'];
  }
  return copy;
}

/** The URL a Location header points to, resolved against the URL that answered; null if invalid. */
export function redirectTarget(location: string, from: URL): URL | null {
  try {
    return new URL(location, from);
  } catch {
    return null;
  }
}
