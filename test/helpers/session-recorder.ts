/**
 * Event collectors for the sans-I/O core: feed bytes in, get the events and the bytes out.
 */
import { type Frame, ProtocolSession, type ReceiverHandler, type Role, type SessionOptions, type WebSocketError } from '../../src/protocol/index.js';
import { parseWireFrames, type WireFrame } from './wire-frames.js';

export type RecordedEvent =
  | { type: 'message'; data: Buffer; isBinary: boolean }
  | { type: 'ping'; payload: Buffer }
  | { type: 'pong'; payload: Buffer }
  | { type: 'frame'; opcode: number; fin: boolean; rsv1: boolean; payload: Buffer }
  | { type: 'close-frame'; payload: Buffer }
  | { type: 'peer-close'; code: number; reason: string }
  | { type: 'close-sent'; code: number }
  | { type: 'close-complete' }
  | { type: 'error'; code: string; closeCode: number };

/** Records what a FrameReceiver reports (payloads copied: the receiver may reuse its input). */
export class ReceiverRecorder implements ReceiverHandler {
  readonly events: RecordedEvent[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), isBinary });
  }
  onPing(payload: Buffer): void {
    this.events.push({ type: 'ping', payload: Buffer.from(payload) });
  }
  onPong(payload: Buffer): void {
    this.events.push({ type: 'pong', payload: Buffer.from(payload) });
  }
  onCloseFrame(payload: Buffer): void {
    this.events.push({ type: 'close-frame', payload: Buffer.from(payload) });
  }
  onFrame(frame: Frame): void {
    this.events.push({ type: 'frame', opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: Buffer.from(frame.payload) });
  }
  onReceiveError(error: WebSocketError): void {
    this.events.push({ type: 'error', code: error.code, closeCode: error.closeCode });
  }
  onReceiverResumed(): void {}

  get errors(): Array<Extract<RecordedEvent, { type: 'error' }>> {
    return this.events.filter((e): e is Extract<RecordedEvent, { type: 'error' }> => e.type === 'error');
  }
  get messages(): Array<Extract<RecordedEvent, { type: 'message' }>> {
    return this.events.filter((e): e is Extract<RecordedEvent, { type: 'message' }> => e.type === 'message');
  }
}

/**
 * A ProtocolSession with a recording handler: `feed(bytes)` receives and collects the
 * output, `wire` holds every byte the session produced, `sent()` parses it into frames.
 */
export class SessionHarness {
  readonly events: RecordedEvent[] = [];
  readonly session: ProtocolSession;
  private readonly out: Buffer[] = [];

  constructor(role: Role, options: SessionOptions = {}) {
    const events = this.events;
    this.session = new ProtocolSession(
      role,
      {
        onMessage: (data, isBinary) => events.push({ type: 'message', data: Buffer.from(data), isBinary }),
        onPing: (payload) => events.push({ type: 'ping', payload: Buffer.from(payload) }),
        onPong: (payload) => events.push({ type: 'pong', payload: Buffer.from(payload) }),
        onFrame: (frame) =>
          events.push({ type: 'frame', opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, payload: Buffer.from(frame.payload) }),
        onPeerClose: (code, reason) => events.push({ type: 'peer-close', code, reason }),
        onCloseSent: (code) => events.push({ type: 'close-sent', code }),
        onCloseHandshakeComplete: () => events.push({ type: 'close-complete' }),
        onProtocolError: (error) => events.push({ type: 'error', code: error.code, closeCode: error.closeCode }),
        onOutput: () => {},
        onReceiverResumed: () => {},
      },
      options,
    );
  }

  /** Receive bytes (a copy: the receiver unmasks in place), then collect the output. */
  feed(bytes: Uint8Array): this {
    this.session.receive(Buffer.from(bytes));
    this.collect();
    return this;
  }

  /** Move pending output into `wire`. */
  collect(): void {
    const output = this.session.takeOutput();
    if (output === null) return;
    // Copy: output may be a slice of a shared slab that is reused later.
    if (Array.isArray(output)) for (const piece of output) this.out.push(Buffer.from(piece));
    else this.out.push(Buffer.from(output));
  }

  /** Every byte sent so far. */
  get wire(): Buffer {
    this.collect();
    return Buffer.concat(this.out);
  }

  /** Frames sent so far, parsed by hand; clears them. */
  sent(): WireFrame[] {
    const frames = parseWireFrames(this.wire);
    this.out.length = 0;
    return frames;
  }

  get errors(): Array<Extract<RecordedEvent, { type: 'error' }>> {
    return this.events.filter((e): e is Extract<RecordedEvent, { type: 'error' }> => e.type === 'error');
  }
  get messages(): Array<Extract<RecordedEvent, { type: 'message' }>> {
    return this.events.filter((e): e is Extract<RecordedEvent, { type: 'message' }> => e.type === 'message');
  }
}
