import type { Duplex } from 'node:stream';

/**
 * Whoever handles a socket's events right now: the raw handshake, then the connection.
 *
 * A socket gets one set of module-level listeners for its whole life, and they route each
 * event to the socket's current owner. Nothing is removed when the handshake hands over:
 * removing listeners turns a socket's `_events` into a slow dictionary, which every idle
 * connection would then carry (and no closure is created per socket).
 */
export interface SocketOwner {
  handleSocketData(chunk: Buffer): void;
  handleSocketEnd(): void;
  handleSocketClose(): void;
  handleSocketError(error: Error): void;
  handleSocketDrain(): void;
}

const kOwner = Symbol('wsforge.owner');
type OwnedDuplex = Duplex & { [kOwner]?: SocketOwner };

/** Route `socket`'s events to `owner`, installing the listeners on first use. */
export function setSocketOwner(socket: Duplex, owner: SocketOwner): void {
  const owned = socket as OwnedDuplex;
  const installed = owned[kOwner] !== undefined;
  owned[kOwner] = owner;
  if (installed) return;
  socket.on('data', onData);
  // With allowHalfOpen false (plain net sockets) Node answers the peer's FIN itself.
  if ((socket as { allowHalfOpen?: boolean }).allowHalfOpen !== false) socket.on('end', onEnd);
  socket.on('close', onClose);
  socket.on('error', onError);
}

/** Start listening for 'drain' (only connections that hit backpressure need it). */
export function listenForDrain(socket: Duplex): void {
  socket.on('drain', onDrain);
}

function onData(this: OwnedDuplex, chunk: Buffer): void {
  this[kOwner]!.handleSocketData(chunk);
}
function onEnd(this: OwnedDuplex): void {
  this[kOwner]!.handleSocketEnd();
}
function onClose(this: OwnedDuplex): void {
  this[kOwner]!.handleSocketClose();
}
function onError(this: OwnedDuplex, error: Error): void {
  this[kOwner]!.handleSocketError(error);
}
function onDrain(this: OwnedDuplex): void {
  this[kOwner]!.handleSocketDrain();
}
