/**
 * handshakeTimeout in attach() mode, where node:http reads the request heads: a connection of the
 * attached server must send its first request head within the timeout, else it gets 408 and is
 * dropped. node:http's own headersTimeout is checked only every connectionsCheckingInterval
 * (30 s by default), so a slowloris connection was held for up to 80 s there. Once the first head
 * is in (a request or an upgrade), node:http's timers govern the connection again.
 */
import type { Socket } from 'node:net';
import { HandshakeRejection } from '../../protocol/http1/rejection.js';
import type { HandshakeDeadlines, HandshakeInProgress } from './handshake-deadlines.js';
import { writeRejection } from './http1-upgrade.js';

class FirstHeadDeadline implements HandshakeInProgress {
  constructor(
    readonly socket: Socket,
    readonly deadline: number,
  ) {}

  timedOut(): void {
    writeRejection(this.socket, new HandshakeRejection(408, 'request head not received in time'));
  }
}

/** Watches the connections of attached HTTP servers until their first request head. */
export class FirstHeadWatch {
  private readonly waiting = new Map<Socket, FirstHeadDeadline>();

  constructor(private readonly deadlines: HandshakeDeadlines) {}

  /** A connection of an attached server opened. */
  readonly connected = (socket: Socket): void => {
    const entry = new FirstHeadDeadline(socket, this.deadlines.deadlineFromNow());
    this.waiting.set(socket, entry);
    this.deadlines.add(entry);
    socket.once('close', () => this.headReceived(socket));
  };

  /** A request or an upgrade arrived on it: its head is in. */
  readonly requested = (request: { socket: Socket }): void => {
    this.headReceived(request.socket);
  };

  headReceived(socket: Socket): void {
    const entry = this.waiting.get(socket);
    if (entry === undefined) return;
    this.waiting.delete(socket);
    this.deadlines.delete(entry);
  }

  /** The server is closing: stop watching. */
  clear(): void {
    for (const entry of this.waiting.values()) this.deadlines.delete(entry);
    this.waiting.clear();
  }
}
