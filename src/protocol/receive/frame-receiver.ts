/**
 * A standalone frame receiver: the frame parser with its events sent to a handler object, for
 * code that wants RFC 6455 frames and messages without the session's close state machine (a
 * proxy, a test peer). The protocol session does not use it: it is a parser itself.
 */
import type { WebSocketError } from '../errors.js';
import type { MessageExtension } from '../extensions/extension.js';
import type { Frame } from '../frame/opcode.js';
import { FrameParser, type ReceiverLimits } from './frame-parser.js';

/** What a FrameReceiver reports. */
export interface ReceiverHandler {
  /** A complete data message; text has been validated as UTF-8 and is passed as bytes. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /**
   * Optional: a complete text message as a region of a buffer, already validated as UTF-8
   * (`ascii` when every byte is below 0x80), when it arrived in one piece; saves a Buffer view.
   * The region's bytes stay unchanged after the call.
   */
  onTextMessage?(source: Buffer, start: number, end: number, ascii: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** A close frame, payload not yet validated (see parseClosePayload); the receiver has stopped. */
  onCloseFrame(payload: Buffer): void;
  /** Every frame as received (unmasked), when `observeFrames` is on. */
  onFrame(frame: Frame): void;
  /** The connection must fail; the receiver has stopped. */
  onReceiveError(error: WebSocketError): void;
  /** An asynchronous decode finished and the backlog held meanwhile has been parsed. */
  onReceiverResumed(): void;
}

export class FrameReceiver extends FrameParser {
  constructor(
    private readonly handler: ReceiverHandler,
    /** RFC 6455 §5.1: servers require masked frames, clients require unmasked ones. */
    expectMasked: boolean,
    limits: ReceiverLimits,
    extension: MessageExtension | null = null,
  ) {
    super(expectMasked, limits);
    this.extension = extension;
  }

  /** Set the negotiated RSV1 extension (after the handshake). */
  setExtension(extension: MessageExtension | null): void {
    this.extension = extension;
  }

  /** Parse data frames from now on but drop them (this endpoint sent its close, RFC 6455 §7.1.2). */
  override discardData(): void {
    super.discardData();
  }

  /** Stop parsing for good. */
  stop(): void {
    this.stopParsing();
  }

  /** @internal */
  protected onMessage(data: Buffer, isBinary: boolean): void {
    this.handler.onMessage(data, isBinary);
  }
  /** @internal */
  protected onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void {
    if (this.handler.onTextMessage !== undefined) this.handler.onTextMessage(source, start, end, ascii);
    else this.handler.onMessage(source.subarray(start, end), false);
  }
  /** @internal */
  protected onPing(payload: Buffer): void {
    this.handler.onPing(payload);
  }
  /** @internal */
  protected onPong(payload: Buffer): void {
    this.handler.onPong(payload);
  }
  /** @internal */
  protected onCloseFrame(payload: Buffer): void {
    this.handler.onCloseFrame(payload);
  }
  /** @internal */
  protected onFrame(frame: Frame): void {
    this.handler.onFrame(frame);
  }
  /** @internal */
  protected onReceiveError(error: WebSocketError): void {
    this.handler.onReceiveError(error);
  }
  /** @internal */
  protected onReceiverResumed(): void {
    this.handler.onReceiverResumed();
  }
}
