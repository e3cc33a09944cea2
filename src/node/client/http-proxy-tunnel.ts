/**
 * A transport through an HTTP proxy: TCP to the proxy, `CONNECT host:port` (RFC 9110 §9.3.6)
 * with Basic credentials when the proxy URL has them, then the handshake inside the tunnel
 * (TLS first for wss://). A proxy that refuses (407, 403, 502...) fails the attempt with
 * WSF_ERR_PROXY_REFUSED, naming the proxy and its status.
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import { DEFAULT_MAX_HEADER_SIZE, findHeadEnd, type HttpResponseHead, parseResponseHead } from '../../protocol/http1/head-parser.js';
import { connectAuthority, formatConnectRequest, tunnelEstablished } from '../../protocol/proxy/http-connect.js';
import type { ProxyServer } from './proxy-server.js';
import type { TransportOpener } from './transport.js';
import { startTlsInTunnel } from './tunnel-tls.js';

/** The most of a refusal's body kept for the error. */
const REFUSAL_BODY_BYTES = 512;

export function httpProxyTunnel(proxy: ProxyServer): TransportOpener {
  return (target, options) => {
    const socket = netConnect({ host: proxy.host, port: proxy.port });
    socket.setNoDelay(true);
    const destination = connectAuthority(target.host, target.port);
    const ready = new Promise<Duplex | void>((resolve, reject) => {
      let received: Buffer | null = null;
      const cleanUp = () => {
        socket.off('connect', onConnect);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const failWith = (error: WebSocketError) => {
        cleanUp();
        socket.destroy();
        reject(error);
      };
      const onConnect = () => socket.write(formatConnectRequest(target.host, target.port, proxy.credentials));
      const onError = (error: NodeJS.ErrnoException) => {
        const detail = error.code !== undefined ? `${error.code} (${error.message})` : error.message;
        failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `cannot connect to proxy ${proxy.label}: ${detail}`, { cause: error }));
      };
      const onClose = () => failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `proxy ${proxy.label} closed the connection before answering CONNECT ${destination}`));
      const onData = (chunk: Buffer) => {
        const bytes = (received = received === null ? chunk : Buffer.concat([received, chunk]));
        let end: number;
        let head: HttpResponseHead;
        try {
          end = findHeadEnd(bytes, options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE);
          if (end === -1) return;
          head = parseResponseHead(bytes.subarray(0, end));
        } catch (error) {
          failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `proxy ${proxy.label} sent an invalid answer to CONNECT ${destination}`, { cause: error }));
          return;
        }
        const rest = bytes.subarray(end);
        if (!tunnelEstablished(head.status)) {
          const body = rest.subarray(0, REFUSAL_BODY_BYTES).toString('utf8');
          failWith(
            new WebSocketError(ErrorCode.PROXY_REFUSED, `proxy ${proxy.label} refused CONNECT ${destination}: ${head.status} ${head.statusText}`.trimEnd(), {
              response: { status: head.status, statusText: head.statusText, headers: head.headers, body },
            }),
          );
          return;
        }
        cleanUp();
        if (target.secure) {
          // RFC 9110 §9.3.6: after a 2xx the connection is the tunnel; the target speaks first only after our ClientHello.
          if (rest.length > 0) {
            failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `proxy ${proxy.label} sent data before the TLS handshake to ${destination}`));
            return;
          }
          // The TLS socket owns the connection from here; its errors are reported by it.
          socket.on('error', ignoreOuterError);
          startTlsInTunnel(socket, target, options).then(resolve, (error: WebSocketError) => {
            socket.destroy();
            reject(error);
          });
          return;
        }
        // The caller reads from here on; keep whatever already came from the target for it.
        socket.pause();
        if (rest.length > 0) socket.unshift(rest);
        resolve();
      };
      socket.once('connect', onConnect);
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
    return { stream: socket, ready };
  };
}

function ignoreOuterError(): void {
  // The TLS socket inside the tunnel reports failures of the connection it runs over.
}
