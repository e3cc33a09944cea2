/**
 * A transport over a Unix domain socket (ws+unix: URLs, the `socketPath` option): the same
 * handshake as over TCP, and TLS over the socket for wss+unix: or a wss: URL with `socketPath`.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import { tlsOptionsFor, type TransportOpener } from './transport.js';

export function unixSocketTransport(socketPath: string): TransportOpener {
  return (target, options) => {
    const socket = target.secure ? tlsConnect({ path: socketPath, ...tlsOptionsFor(target, options) }) : netConnect({ path: socketPath });
    const readyEvent = target.secure ? 'secureConnect' : 'connect';
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        socket.off('error', onError);
        resolve();
      };
      const onError = (error: NodeJS.ErrnoException) => {
        socket.off(readyEvent, onReady);
        const detail = error.code !== undefined ? `${error.code} (${error.message})` : error.message;
        reject(new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, `cannot connect to Unix socket ${socketPath}: ${detail}`, { cause: error }));
      };
      socket.once(readyEvent, onReady);
      socket.once('error', onError);
    });
    return { stream: socket, ready };
  };
}
