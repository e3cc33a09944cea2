/**
 * A transport through a SOCKS5 proxy (RFC 1928, username/password per RFC 1929): TCP to the
 * proxy, the negotiation (src/protocol/proxy/socks5.ts), then the handshake inside the tunnel
 * (TLS first for wss://). With `socks5:` the target's name is resolved here and the proxy gets
 * an address; with `socks5h:` the proxy resolves it (curl's two schemes).
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import { connectAuthority } from '../../protocol/proxy/http-connect.js';
import { type Socks5Destination, Socks5Failure, Socks5Negotiation } from '../../protocol/proxy/socks5.js';
import type { ProxyServer } from './proxy-server.js';
import type { TransportOpener } from './transport.js';
import { startTlsInTunnel } from './tunnel-tls.js';
import type { WebSocketTarget } from './url.js';

export function socks5Tunnel(proxy: ProxyServer): TransportOpener {
  return (target, options) => {
    const socket = netConnect({ host: proxy.host, port: proxy.port });
    socket.setNoDelay(true);
    const destination = connectAuthority(target.host, target.port);
    const ready = new Promise<Duplex | void>((resolve, reject) => {
      let negotiation: Socks5Negotiation | null = null;
      let settled = false;
      const cleanUp = () => {
        socket.off('connect', onConnect);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const failWith = (error: WebSocketError) => {
        if (settled) return;
        settled = true;
        cleanUp();
        socket.destroy();
        reject(error);
      };
      const failure = (error: unknown) => {
        if (error instanceof Socks5Failure) {
          const code = error.refused ? ErrorCode.PROXY_REFUSED : ErrorCode.PROXY_CONNECTION;
          const verb = error.refused ? 'refused' : 'failed';
          return new WebSocketError(code, `SOCKS5 proxy ${proxy.label} ${verb} CONNECT ${destination}: ${error.message}`, { cause: error });
        }
        return error instanceof WebSocketError ? error : new WebSocketError(ErrorCode.PROXY_CONNECTION, `SOCKS5 proxy ${proxy.label}: ${String(error)}`, { cause: error });
      };
      const onConnect = () => {
        socks5Destination(proxy, target).then(
          (where) => {
            if (settled) return;
            try {
              negotiation = new Socks5Negotiation(where, proxy.credentials);
              socket.write(negotiation.start());
            } catch (error) {
              failWith(failure(error));
            }
          },
          (error: NodeJS.ErrnoException) =>
            failWith(new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, `cannot resolve ${target.host} for SOCKS5 proxy ${proxy.label}: ${error.code ?? error.message}`, { cause: error })),
        );
      };
      const onError = (error: NodeJS.ErrnoException) => {
        const detail = error.code !== undefined ? `${error.code} (${error.message})` : error.message;
        failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `cannot connect to proxy ${proxy.label}: ${detail}`, { cause: error }));
      };
      const onClose = () => failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `SOCKS5 proxy ${proxy.label} closed the connection during CONNECT ${destination}`));
      const onData = (chunk: Buffer) => {
        if (negotiation === null) {
          failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `SOCKS5 proxy ${proxy.label} spoke before the greeting`));
          return;
        }
        let step: ReturnType<typeof negotiation.receive>;
        try {
          step = negotiation.receive(chunk);
        } catch (error) {
          failWith(failure(error));
          return;
        }
        if (step.send !== undefined) socket.write(step.send);
        if (step.open === undefined) return;
        const rest = step.open.rest;
        if (target.secure && rest.length > 0) {
          failWith(new WebSocketError(ErrorCode.PROXY_CONNECTION, `SOCKS5 proxy ${proxy.label} sent data before the TLS handshake to ${destination}`));
          return;
        }
        settled = true;
        cleanUp();
        if (target.secure) {
          // The TLS socket owns the connection from here; its errors are reported by it.
          socket.on('error', ignoreOuterError);
          startTlsInTunnel(socket, target, options).then(resolve, (error: WebSocketError) => {
            socket.destroy();
            reject(error);
          });
          return;
        }
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

/** The address the proxy is asked for: the name itself (socks5h:), or what it resolves to here. */
async function socks5Destination(proxy: ProxyServer, target: WebSocketTarget): Promise<Socks5Destination> {
  const family = isIP(target.host);
  if (family === 4) return { host: target.host, port: target.port, addressType: 'ipv4' };
  if (family === 6) return { host: target.host, port: target.port, addressType: 'ipv6' };
  if (proxy.protocol === 'socks5h') return { host: target.host, port: target.port, addressType: 'domain' };
  const { address, family: resolved } = await lookup(target.host);
  return { host: address, port: target.port, addressType: resolved === 6 ? 'ipv6' : 'ipv4' };
}

function ignoreOuterError(): void {
  // The TLS socket inside the tunnel reports failures of the connection it runs over.
}
