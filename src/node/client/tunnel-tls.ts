/**
 * wss:// through a proxy: TLS to the target, started inside the tunnel once the proxy has
 * opened it, so the proxy sees only ciphertext (and the certificate is checked for the target,
 * not the proxy).
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { ConnectOptions } from './options.js';
import { connectionError, tlsOptionsFor } from './transport.js';
import type { WebSocketTarget } from './url.js';

export function startTlsInTunnel(tunnel: Socket, target: WebSocketTarget, options: ConnectOptions): Promise<TLSSocket> {
  const secure = tlsConnect({ socket: tunnel, ...tlsOptionsFor(target, options) });
  return new Promise((resolve, reject) => {
    const onSecure = () => {
      secure.off('error', onError);
      resolve(secure);
    };
    const onError = (error: NodeJS.ErrnoException) => {
      secure.off('secureConnect', onSecure);
      secure.destroy();
      reject(connectionError(target, error));
    };
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
  });
}
