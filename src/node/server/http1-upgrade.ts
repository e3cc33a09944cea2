/**
 * The HTTP/1.1 responder: writes a handshake decision out (RFC 6455 §4.2.2): the 101 with
 * Sec-WebSocket-Accept for an acceptance, an error response for a rejection. The decision itself
 * is the protocol's (protocol/handshake/decision.ts); an HTTP/2 responder writes the same
 * decisions as HEADERS frames.
 */
import type { Duplex } from 'node:stream';
import type { HandshakeAcceptance } from '../../protocol/handshake/decision.js';
import { buildUpgradeResponse } from '../../protocol/handshake/upgrade-request.js';
import type { HandshakeRejection } from '../../protocol/http1/rejection.js';
import { buildErrorResponse } from '../../protocol/http1/response.js';

/**
 * How long a refused client may take to read its error response before the socket is dropped.
 * Dropping a socket with unread input resets it, and a client's TCP discards what the client has
 * not read yet when the reset arrives (RFC 9112 §9.6): the answer is lost if the client reads it
 * later than this. Nothing is read meanwhile (the socket is paused), so a peer that keeps sending
 * costs no CPU, only its socket for this long (the endless-header attack in test/attacks/;
 * measured with 200 such peers at once, 100 ms lost an answer now and then on a busy machine).
 */
const REFUSAL_LINGER = 250;

/** Write the 101 that completes the handshake. */
export function writeAcceptance(socket: Duplex, key: string, acceptance: HandshakeAcceptance): void {
  socket.write(buildUpgradeResponse(key, acceptance.protocol, acceptance.extensionHeader, acceptance.headers));
}

/**
 * Answer a refused request and close: nothing more is read from the client (a peer that keeps
 * sending is stopped by TCP flow control, not swallowed), and the socket is dropped once the
 * client has had a moment to read the answer.
 */
export function writeRejection(socket: Duplex, rejection: HandshakeRejection): void {
  socket.pause();
  if (!socket.destroyed && socket.writable) {
    socket.end(buildErrorResponse(rejection.status, rejection.reason, rejection.headers));
    setTimeout(destroySocket, REFUSAL_LINGER, socket).unref();
  } else {
    socket.destroy();
  }
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}
