/**
 * `createWebSocketStream(ws, options)`: a Duplex over a wsforge/ws connection, as ws has it.
 * What is read are the messages (Buffers; text as strings in object mode); what is written
 * goes out as binary messages; ending the writable side starts the closing handshake; the
 * readable side ends when the connection closes. Reading back-pressures with `ws.pause()`.
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import type { RawData } from './message-data.js';
import type { WebSocket } from './websocket.js';

export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // A connection failure ends the stream with the error; it needs no terminate() then.
  let failed = false;
  const duplex = new Duplex({
    ...options,
    // As ws: the modes of the two sides are fixed (messages in, bytes out), whatever options say.
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      // A client still connecting: the write waits for 'open' (ws's send() would throw).
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => this._write(chunk, encoding, callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => this._final(callback));
        return;
      }
      if (ws.readyState === ws.CLOSED) {
        callback();
        return;
      }
      ws.once('close', () => callback());
      ws.close();
    },
    destroy(error, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(error);
        return;
      }
      ws.once('close', () => callback(error));
      if (!failed) ws.terminate();
    },
  });
  const objectMode = duplex.readableObjectMode;

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const message = !isBinary && objectMode ? (data as Buffer).toString('utf8') : data;
    if (!duplex.push(message)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    failed = true;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });
  return duplex;
}
