/**
 * A reference model of a connection's close state machine over the receive model's events
 * (RFC 6455 §5.5.1-§5.5.3, §7.1.2-§7.1.7, §7.4): what a session tells its owner and which
 * frames it must send back (pongs, the echo of the peer's close, the close of a failure).
 */
import type { ErrorCode } from '../../src/protocol/index.js';
import { MODEL_CLOSE_CODES, type ModelEvent } from './frame-model.js';
import { isWholeUtf8 } from './utf8-automaton.js';

export type SessionEvent =
  | { readonly type: 'message'; readonly data: string | Buffer; readonly isBinary: boolean }
  | { readonly type: 'ping'; readonly payload: Buffer }
  | { readonly type: 'pong'; readonly payload: Buffer }
  | { readonly type: 'frame'; readonly opcode: number; readonly fin: boolean; readonly rsv1: boolean; readonly payload: Buffer }
  | { readonly type: 'peer-close'; readonly code: number; readonly reason: string }
  | { readonly type: 'close-sent'; readonly code: number }
  | { readonly type: 'close-complete' }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly closeCode: number }
  | { readonly type: 'action' };

/** A frame the session must send: a pong or close with this payload, or (payload null) a close with this code. */
export interface ExpectedFrame {
  readonly opcode: number;
  readonly payload: Buffer | null;
  readonly closeCode?: number;
}

export interface SessionExpectation {
  readonly events: SessionEvent[];
  readonly sent: ExpectedFrame[];
  /** Stopped for good: the peer's close frame arrived, or the connection failed. */
  readonly ended: boolean;
  readonly closeSent: boolean;
  /** transportClosed()'s answer: both close frames exchanged. */
  readonly clean: boolean;
}

export interface SessionModelOptions {
  readonly autoPong: boolean;
  /** The code the owner's action closes with (undefined: a close frame without a code). */
  readonly actionCode: number | undefined;
  /** Which of a failure's right codes the session chose (the comparison then holds it to that one). */
  readonly chooseError: (codes: readonly ErrorCode[]) => ErrorCode;
}

/** RFC 6455 §7.4.1-§7.4.2 and the IANA registry: the codes a close frame may carry. */
export function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export function closePayloadOf(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

export function modelSession(received: readonly ModelEvent[], options: SessionModelOptions): SessionExpectation {
  const events: SessionEvent[] = [];
  const sent: ExpectedFrame[] = [];
  let closeSent = false;
  let closeReceived = false;
  let ended = false;

  const failWith = (codes: readonly ErrorCode[]): void => {
    const code = options.chooseError(codes);
    const closeCode = MODEL_CLOSE_CODES[code] ?? 1011;
    // §7.1.7: fail the connection: a close frame with the code, unless ours is already sent.
    if (!closeSent) {
      sent.push({ opcode: 0x8, payload: null, closeCode });
      events.push({ type: 'close-sent', code: closeCode });
      closeSent = true;
    }
    events.push({ type: 'error', code, closeCode });
    ended = true;
  };

  for (const event of received) {
    if (ended) break;
    switch (event.type) {
      case 'message':
        // §7.1.2: once our close is sent, only the closing handshake is processed.
        if (!closeSent) events.push({ type: 'message', data: event.isBinary ? event.data : event.data.toString('utf8'), isBinary: event.isBinary });
        break;
      case 'ping':
        if (closeSent) break;
        // §5.5.2: a ping is answered with a pong carrying the same data.
        if (options.autoPong) sent.push({ opcode: 0xa, payload: event.payload });
        events.push({ type: 'ping', payload: event.payload });
        break;
      case 'pong':
        if (!closeSent) events.push({ type: 'pong', payload: event.payload });
        break;
      case 'frame':
        events.push(event);
        break;
      case 'action':
        events.push({ type: 'action' });
        if (!closeSent) {
          const code = options.actionCode;
          sent.push({ opcode: 0x8, payload: code === undefined ? Buffer.alloc(0) : closePayloadOf(code, '') });
          events.push({ type: 'close-sent', code: code ?? 1005 });
          closeSent = true;
        }
        break;
      case 'close-frame': {
        // §5.5.1: empty, or a 2-byte code and a UTF-8 reason; §7.4: a code that may be sent.
        const payload = event.payload;
        if (payload.length === 1) {
          failWith(['WSF_ERR_INVALID_CLOSE_PAYLOAD']);
          break;
        }
        const code = payload.length === 0 ? 1005 : payload.readUInt16BE(0);
        const reasonBytes = payload.subarray(2);
        const broken: ErrorCode[] = [];
        if (payload.length >= 2 && !isSendableCloseCode(code)) broken.push('WSF_ERR_INVALID_CLOSE_CODE');
        if (!isWholeUtf8(reasonBytes)) broken.push('WSF_ERR_INVALID_UTF8');
        if (broken.length > 0) {
          failWith(broken);
          break;
        }
        const reason = reasonBytes.toString('utf8');
        closeReceived = true;
        if (!closeSent) {
          // §5.5.1: answer with a close frame; wsforge echoes the code (1000 for none) and the reason.
          const echo = code === 1005 ? 1000 : code;
          sent.push({ opcode: 0x8, payload: closePayloadOf(echo, reason) });
          events.push({ type: 'close-sent', code: echo });
          closeSent = true;
        }
        events.push({ type: 'peer-close', code, reason });
        events.push({ type: 'close-complete' });
        ended = true;
        break;
      }
      case 'error':
        failWith(event.codes);
        break;
    }
  }
  return { events, sent, ended, closeSent, clean: closeSent && closeReceived };
}
