/**
 * Listen mode without node:http: collects a connection's request head from raw TCP (or TLS),
 * within a size limit and a deadline, then hands it to the server. Bytes that cannot start an
 * HTTP request (a TLS ClientHello sent to a plain port, binary garbage) are refused at once.
 */
import type { Socket } from 'node:net';
import { findHeadEnd, isNotHttpRequestStart } from '../../protocol/http1/head-parser.js';
import { HandshakeRejection } from '../../protocol/http1/rejection.js';
import { setSocketOwner } from '../connection/socket-owner.js';
import type { HandshakeInProgress } from './handshake-deadlines.js';

/** What the raw handshake reports to its server. */
export interface RawHandshakeOwner {
  headReceived(handshake: RawHandshake, socket: Socket, head: Buffer, rest: Buffer): void;
  headRefused(handshake: RawHandshake, socket: Socket, rejection: HandshakeRejection): void;
  handshakeGone(handshake: RawHandshake, socket: Socket): void;
}

export class RawHandshake implements HandshakeInProgress {
  private received: Buffer | null = null;
  private done = false;

  constructor(
    private readonly owner: RawHandshakeOwner,
    private readonly socket: Socket,
    private readonly maxHeaderSize: number,
    readonly deadline: number,
  ) {
    setSocketOwner(socket, this);
  }

  /** @internal */
  handleSocketData(chunk: Buffer): void {
    if (this.done) return;
    const data = this.received === null ? chunk : Buffer.concat([this.received, chunk]);
    let end: number;
    try {
      if (this.received === null && isNotHttpRequestStart(data)) throw new HandshakeRejection(400, 'not an HTTP request');
      end = findHeadEnd(data, this.maxHeaderSize);
    } catch (error) {
      this.finish();
      this.owner.headRefused(this, this.socket, error as HandshakeRejection);
      return;
    }
    if (end === -1) {
      this.received = data;
      return;
    }
    this.finish();
    // Hold further bytes in the socket until the connection has its handlers.
    this.socket.pause();
    this.owner.headReceived(this, this.socket, data.subarray(0, end), data.subarray(end));
  }

  /** @internal */
  handleSocketClose(): void {
    this.finish();
    this.owner.handshakeGone(this, this.socket);
  }

  /** @internal */
  handleSocketEnd(): void {
    // A client that half-closes before its handshake is done will not complete it.
    this.socket.end();
  }

  /** @internal */
  handleSocketError(): void {
    // An error ends the socket; 'close' does the bookkeeping.
  }

  /** @internal */
  handleSocketDrain(): void {}

  /** The server is closing: drop the connection. */
  abort(): void {
    this.done = true;
    this.received = null;
    this.socket.destroy();
  }

  timedOut(): void {
    if (this.done) return;
    this.finish();
    this.owner.headRefused(this, this.socket, new HandshakeRejection(408, 'handshake timed out'));
  }

  private finish(): void {
    this.done = true;
    this.received = null;
  }
}
