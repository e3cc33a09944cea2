/**
 * The HTTP CONNECT request a client sends to open a tunnel through an HTTP proxy
 * (RFC 9110 §9.3.6), with Basic credentials (RFC 7617) when the proxy URL has them. The answer
 * is an ordinary response head (parseResponseHead): any 2xx status opens the tunnel.
 */

/** `host:port` in authority form, IPv6 literals in brackets (RFC 9110 §9.3.6, RFC 3986 §3.2.2). */
export function connectAuthority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The request head that asks the proxy for a tunnel to `host:port`. */
export function formatConnectRequest(host: string, port: number, credentials?: { username: string; password: string }): string {
  const authority = connectAuthority(host, port);
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (credentials !== undefined) {
    // RFC 7617 §2: base64 of user-id ":" password, UTF-8 (the charset every proxy accepts for ASCII).
    head += `Proxy-Authorization: Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}\r\n`;
  }
  return `${head}\r\n`;
}

/** Whether a CONNECT answer opens the tunnel: RFC 9110 §9.3.6, any 2xx. */
export function tunnelEstablished(status: number): boolean {
  return status >= 200 && status < 300;
}
