/**
 * Opening the byte stream a client handshake runs over: the one replaceable step of connect().
 * TCP for ws://, TLS for wss:// (ALPN http/1.1, SNI unless the host is an IP address).
 */
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import type { ConnectOptions } from './options.js';
import type { WebSocketTarget } from './url.js';

/**
 * A transport being opened: the stream, and a promise settled once bytes can be written. When
 * the handshake runs over a stream that exists only later (TLS inside a proxy tunnel), `ready`
 * resolves with that stream, and `stream` is the outer one (destroyed if the attempt fails).
 */
export interface OpeningTransport {
  readonly stream: Duplex;
  readonly ready: Promise<Duplex | void>;
}

export type TransportOpener = (target: WebSocketTarget, options: ConnectOptions) => OpeningTransport;

/** TCP or TLS, straight to the target. */
export const openDirectTransport: TransportOpener = (target, options) => {
  const socket = target.secure ? tlsConnect({ host: target.host, port: target.port, ...tlsOptionsFor(target, options) }) : netConnect({ host: target.host, port: target.port });
  socket.setNoDelay(true);
  const ready = new Promise<void>((resolve, reject) => {
    const onReady = () => {
      socket.off('error', onError);
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      socket.off(target.secure ? 'secureConnect' : 'connect', onReady);
      reject(connectionError(target, error));
    };
    socket.once(target.secure ? 'secureConnect' : 'connect', onReady);
    socket.once('error', onError);
  });
  return { stream: socket, ready };
};

/** WSF_ERR_HANDSHAKE_CONNECTION naming the target and the system's reason. */
export function connectionError(target: WebSocketTarget, error: NodeJS.ErrnoException): WebSocketError {
  const detail = error.code !== undefined ? `${error.code} (${error.message})` : error.message;
  return new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, `cannot connect to ${target.authority}: ${detail}`, { cause: error });
}

/** TLS to the target: ALPN http/1.1, SNI unless the host is an IP address, then the caller's options. */
export function tlsOptionsFor(target: WebSocketTarget, options: ConnectOptions): TlsConnectionOptions {
  return { servername: isIp(target.host) ? '' : target.host, ALPNProtocols: ['http/1.1'], ...options.tls };
}

/** An IP literal, to which no SNI name is sent. */
export function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
