/**
 * What a FrameReceiver and a ProtocolSession report, recorded in the models' terms, and the bytes a
 * session writes. Payloads are copied: the comparison happens after the run.
 */
import {
  type ErrorCode,
  FrameReceiver,
  type MessageExtension,
  ProtocolSession,
  type ReceiverHandler,
  type Role,
  type SessionOptions,
} from '../../src/protocol/index.js';
import type { SessionEvent } from '../model/session-model.js';
import { check } from '../target.js';

/** A receiver's events; an error holds the one code it chose (and its close code, checked later). */
export type ReceiverEvent =
  | { readonly type: 'message'; readonly data: Buffer; readonly isBinary: boolean }
  | { readonly type: 'ping'; readonly payload: Buffer }
  | { readonly type: 'pong'; readonly payload: Buffer }
  | { readonly type: 'frame'; readonly opcode: number; readonly fin: boolean; readonly rsv1: boolean; readonly payload: Buffer }
  | { readonly type: 'close-frame'; readonly payload: Buffer }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly closeCode: number }
  | { readonly type: 'action' };

export class ReceiverRecording implements ReceiverHandler {
  readonly events: ReceiverEvent[] = [];
  readonly receiver: FrameReceiver;

  constructor(expectMasked: boolean, limits: { maxPayload: number; maxFragments: number }, observeFrames: boolean, extension: MessageExtension | null) {
    this.receiver = new FrameReceiver(this, expectMasked, limits, extension);
    this.receiver.observeFrames = observeFrames;
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), isBinary });
  }
  onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void {
    const data = Buffer.from(source.subarray(start, end));
    check(ascii === data.every((byte) => byte < 0x80), () => `onTextMessage said ascii=${ascii} for ${data.toString('hex')}`);
    this.events.push({ type: 'message', data, isBinary: false });
  }
  onPing(payload: Buffer): void {
    this.events.push({ type: 'ping', payload: Buffer.from(payload) });
  }
  onPong(payload: Buffer): void {
    this.events.push({ type: 'pong', payload: Buffer.from(payload) });
  }
  onCloseFrame(payload: Buffer): void {
    check(this.receiver.stopped, 'the receiver reported a close frame without stopping (RFC 6455 §5.5.1)');
    this.events.push({ type: 'close-frame', payload: Buffer.from(payload) });
  }
  onFrame(frame: { opcode: number; fin: boolean; rsv1: boolean; rsv2: boolean; rsv3: boolean; payload: Buffer }): void {
    check(!frame.rsv2 && !frame.rsv3, 'a frame with RSV2 or RSV3 was reported');
    this.events.push({ type: 'frame', opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: Buffer.from(frame.payload) });
  }
  onReceiveError(error: { code: ErrorCode; closeCode: number }): void {
    check(this.receiver.stopped, 'the receiver reported a failure without stopping');
    this.events.push({ type: 'error', code: error.code, closeCode: error.closeCode });
  }
  onReceiverResumed(): void {}
}

export class SessionRecording {
  readonly events: SessionEvent[] = [];
  readonly session: ProtocolSession;
  private readonly written: Buffer[] = [];
  /** Called when a decode finished or the session ended (asynchronous extensions). */
  private wake: (() => void) | null = null;

  constructor(role: Role, options: SessionOptions, observeFrames: boolean, extension: MessageExtension | null) {
    const events = this.events;
    const wake = (): void => {
      const waiting = this.wake;
      this.wake = null;
      waiting?.();
    };
    this.session = new ProtocolSession(
      role,
      {
        onMessage: (data, isBinary) =>
          events.push({ type: 'message', data: typeof data === 'string' ? data : Buffer.from(data), isBinary }),
        onPing: (payload) => events.push({ type: 'ping', payload: Buffer.from(payload) }),
        onPong: (payload) => events.push({ type: 'pong', payload: Buffer.from(payload) }),
        onFrame: (frame) =>
          events.push({ type: 'frame', opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: Buffer.from(frame.payload) }),
        onPeerClose: (code, reason) => events.push({ type: 'peer-close', code, reason }),
        onCloseSent: (code) => events.push({ type: 'close-sent', code }),
        onCloseHandshakeComplete: () => {
          events.push({ type: 'close-complete' });
          wake();
        },
        onProtocolError: (error) => {
          events.push({ type: 'error', code: error.code, closeCode: error.closeCode });
          wake();
        },
        onOutput: () => {},
        onReceiverResumed: wake,
      },
      options,
    );
    this.session.observeFrames = observeFrames;
    if (extension !== null) this.session.setExtension(extension);
  }

  /** Move the session's pending output into `wire`. */
  collect(): void {
    const output = this.session.takeOutput();
    if (output === null) return;
    // Copies: output may be a slice of a slab shared by all connections, reused later.
    if (Array.isArray(output)) for (const piece of output) this.written.push(Buffer.from(piece));
    else this.written.push(Buffer.from(output));
  }

  /** Every byte the session wrote so far. */
  get wire(): Buffer {
    this.collect();
    return Buffer.concat(this.written);
  }

  /** Wait until no decode holds parsing back (at once when none does). */
  async settled(): Promise<void> {
    while (this.session.isPaused && !this.session.stopped) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
