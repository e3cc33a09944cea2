// One WebSocket connection as the driver sees it: a raw socket (or an HTTP/2 stream, RFC 8441), the tests' own
// frame codec, a strict check of every frame the peer sends, and a log of what arrived. Every wait is bounded.
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { DeflateCodec, deflateAgreement, type DeflateAgreement } from './deflate.js';
import { OP, WireFrameReader, type WireFrame } from '../helpers/wire-frames.js';
import { encodeFrame, payloadOf, type DriverRole, type FrameSpec } from './frame-spec.js';
import { hexPreview } from './format.js';
import type { DeflateStep, Step } from './types.js';

export type ReceivedEvent =
  /** `compressed`: the message had RSV1 (permessage-deflate). */
  | { kind: 'text' | 'binary'; data: Buffer; frames: number; at: number; compressed?: boolean }
  | { kind: 'ping' | 'pong'; data: Buffer; at: number }
  | { kind: 'close'; code: number | null; reason: Buffer; payload: Buffer; at: number };

/** What the handshake negotiated, as far as the driver must know to read the peer's frames and write its own. */
export interface NegotiatedExtensions {
  /**
   * permessage-deflate (RFC 7692): the peer may set RSV1 on the first frame of a message; the windows and
   * context takeover agreed for each side (see deflate.ts).
   */
  deflate?: DeflateAgreement;
}

/** Parses a Sec-WebSocket-Extensions answer into what the reader needs; role = the driver's role. */
export function negotiatedExtensions(header: string | null, role: DriverRole): NegotiatedExtensions {
  const deflate = deflateAgreement(header, role);
  return deflate === null ? {} : { deflate };
}

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const FRAME_LOG_LIMIT = 24;
const FIRST_BYTES = 256;

// RFC 6455 §7.4: codes an endpoint may send in a close frame.
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export class Wire {
  readonly events: ReceivedEvent[] = [];
  /** Protocol violations by the peer (what a strict endpoint would fail the connection for). */
  readonly violations: string[] = [];
  /** Socket errors seen (EPIPE, ECONNRESET, ...). */
  readonly socketErrors: string[] = [];
  /** First frames received, described with their first bytes, for reports. */
  readonly frameLog: string[] = [];
  readonly firstBytes: Buffer[] = [];
  bytesReceived = 0;
  bytesSent = 0;
  closeEvent: Extract<ReceivedEvent, { kind: 'close' }> | null = null;
  sentClose = false;
  /** The peer sent FIN. */
  peerEnded = false;
  /** The socket is closed (for whatever reason). */
  closed = false;
  destroyedByUs = false;
  sendFailed: string | null = null;
  readonly started = Date.now();

  private readonly decoder = new WireFrameReader(MAX_MESSAGE_BYTES);
  private readonly waiters = new Set<() => void>();
  private readonly encodings = new Map<FrameSpec | FrameSpec[], Buffer>();
  private fragmented: { opcode: number; parts: Buffer[]; size: number; compressed: boolean; frames: number } | null = null;
  /** permessage-deflate in both directions, when negotiated. */
  private readonly codec: DeflateCodec | null;
  private firstBytesCount = 0;
  /** Bytes to put in front of the first write (the handshake response, for `framesWithResponse`). */
  private prefix: Buffer | null = null;

  constructor(
    /** A TCP socket, or an HTTP/2 stream (END_STREAM is its FIN, RST_STREAM its reset). */
    readonly socket: Socket | Duplex,
    readonly role: DriverRole,
    readonly extensions: NegotiatedExtensions,
    rest: Buffer,
  ) {
    this.codec = extensions.deflate === undefined ? null : new DeflateCodec(extensions.deflate);
    (socket as Partial<Socket>).setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.peerEnded = true;
      this.notify();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.socketErrors.push(err.code ?? err.message);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    if (rest.length > 0) this.onData(rest);
    socket.resume();
  }

  /** Sends `bytes` together with the first bytes of the first step, in one write. */
  prependToFirstWrite(bytes: Buffer): void {
    this.prefix = bytes;
  }

  /** The peer closed (FIN or reset), not us. */
  get peerClosedTcp(): boolean {
    return this.peerEnded || (this.closed && !this.destroyedByUs) || this.socketErrors.includes('ECONNRESET');
  }

  get elapsed(): number {
    return Date.now() - this.started;
  }

  /** Data messages and pongs received before the peer's close frame (pings are answered and not listed). */
  get replies(): ReceivedEvent[] {
    return this.events.filter((e) => e.kind === 'text' || e.kind === 'binary' || e.kind === 'pong');
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true as soon as `pred` holds, false after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (pred()) finish(true);
      };
      const finish = (v: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  private onData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    if (this.firstBytesCount < FIRST_BYTES) {
      const part = Buffer.from(chunk.subarray(0, FIRST_BYTES - this.firstBytesCount));
      this.firstBytes.push(part);
      this.firstBytesCount += part.length;
    }
    const frames = this.decoder.push(chunk);
    for (const f of frames) this.onFrame(f);
    if (this.decoder.error !== null && !this.violations.includes(this.decoder.error)) this.violations.push(this.decoder.error);
    this.notify();
  }

  private violation(msg: string): void {
    if (this.violations.length < 20) this.violations.push(msg);
  }

  /** The frame with its header and first 16 payload bytes (as received, still masked), for reports. */
  private describeFrame(f: WireFrame): string {
    const flags = `${f.fin ? 'FIN ' : ''}${f.rsv1 ? 'RSV1 ' : ''}${f.rsv2 ? 'RSV2 ' : ''}${f.rsv3 ? 'RSV3 ' : ''}${f.masked ? 'MASK ' : ''}`;
    return `opcode ${f.opcode} ${flags}len ${f.payload.length} [${hexPreview(f.raw.subarray(0, f.headerLength + 16), 24)}]`;
  }

  private onFrame(f: WireFrame): void {
    const now = this.elapsed;
    if (this.frameLog.length < FRAME_LOG_LIMIT) this.frameLog.push(`+${now}ms ${this.describeFrame(f)}`);
    const peer = this.role === 'client' ? 'server' : 'client';
    if (this.closeEvent !== null) {
      this.violation(`${peer} sent a frame after its close frame: ${this.describeFrame(f)}`);
      return;
    }
    // RFC 6455 §5.1: a server MUST NOT mask; a client MUST mask every frame.
    if (this.role === 'client' && f.masked) this.violation(`server sent a masked frame: ${this.describeFrame(f)}`);
    if (this.role === 'server' && !f.masked) this.violation(`client sent an unmasked frame: ${this.describeFrame(f)}`);
    if (!f.minimalLength) this.violation(`${peer} used a non-minimal payload length encoding: ${this.describeFrame(f)}`);
    const isControl = (f.opcode & 0x8) !== 0;
    const compressedAllowed = this.extensions.deflate !== undefined && !isControl && f.opcode !== OP.CONTINUATION;
    if (f.rsv2 || f.rsv3 || (f.rsv1 && !compressedAllowed)) this.violation(`${peer} set reserved bits without an extension: ${this.describeFrame(f)}`);
    if (isControl) {
      // RFC 6455 §5.5: control frames have payloads of at most 125 bytes and MUST NOT be fragmented.
      if (f.payload.length > 125) this.violation(`${peer} sent a control frame of ${f.payload.length} bytes`);
      if (!f.fin) this.violation(`${peer} sent a fragmented control frame: ${this.describeFrame(f)}`);
      if (f.opcode === OP.PING) {
        this.events.push({ kind: 'ping', data: f.payload, at: now });
        // Answer the peer's own pings (keepalive) so that they never disturb a case.
        if (!this.sentClose) this.writeNow(encodeFrame({ opcode: OP.PONG, payload: f.payload }, this.role));
      } else if (f.opcode === OP.PONG) {
        this.events.push({ kind: 'pong', data: f.payload, at: now });
      } else if (f.opcode === OP.CLOSE) {
        this.onClose(f.payload, now);
      } else {
        this.violation(`${peer} sent reserved control opcode ${f.opcode}`);
      }
      return;
    }
    if (f.opcode === OP.CONTINUATION) {
      if (this.fragmented === null) {
        this.violation(`${peer} sent a continuation frame with no message to continue`);
        return;
      }
      this.fragmented.parts.push(f.payload);
      this.fragmented.size += f.payload.length;
      this.fragmented.frames++;
    } else if (f.opcode === OP.TEXT || f.opcode === OP.BINARY) {
      if (this.fragmented !== null) {
        this.violation(`${peer} started a new data message inside a fragmented one`);
        return;
      }
      this.fragmented = { opcode: f.opcode, parts: [f.payload], size: f.payload.length, compressed: f.rsv1, frames: 1 };
    } else {
      this.violation(`${peer} sent reserved data opcode ${f.opcode}`);
      return;
    }
    if (this.fragmented.size > MAX_MESSAGE_BYTES) {
      this.violation(`${peer} sent a message over the driver's limit of ${MAX_MESSAGE_BYTES} bytes`);
      this.fragmented = null;
      return;
    }
    if (!f.fin) return;
    const m = this.fragmented;
    this.fragmented = null;
    let data = m.parts.length === 1 ? m.parts[0]! : Buffer.concat(m.parts, m.size);
    if (m.compressed) {
      const inflated = this.inflate(data);
      if (inflated === null) return;
      data = inflated;
    }
    if (m.opcode === OP.TEXT && !isUtf8(data)) this.violation(`${peer} sent a text message that is not valid UTF-8: ${hexPreview(data, 32)}`);
    this.events.push({ kind: m.opcode === OP.TEXT ? 'text' : 'binary', data, frames: m.frames, at: now, compressed: m.compressed });
  }

  private inflate(data: Buffer): Buffer | null {
    // RFC 7692 §7.2.1: a sync flush always leaves at least the byte holding its empty block's header (an empty
    // message is 00, §7.2.3.6); an empty payload leaves a receiver that keeps its context mid-block.
    if (data.length === 0) this.violation('peer sent a compressed message with an empty payload (RFC 7692 §7.2.1: an empty message compresses to 00)');
    // RFC 7692 §7.2.2: append 00 00 ff ff and inflate, with the peer's agreed window and context takeover.
    try {
      return this.codec!.inflate(data);
    } catch (err) {
      const a = this.codec!.agreement;
      this.violation(
        `peer sent a compressed message that does not inflate with its agreed window of ${a.peerWindowBits} bits${a.peerNoContextTakeover ? ' and no context takeover' : ''}: ${(err as Error).message}`,
      );
      return null;
    }
  }

  /** The frames of a message the driver compresses itself (RFC 7692 §6.1: RSV1 on the first frame only). */
  private encodeDeflateStep(step: DeflateStep): Buffer {
    if (this.codec === null) throw new Error('the case sends a compressed message, but permessage-deflate was not negotiated');
    const d = step.deflate;
    const compressed = this.codec.deflate(typeof d.payload === 'string' ? Buffer.from(d.payload, 'utf8') : d.payload);
    const size = d.fragmentSize !== undefined && d.fragmentSize > 0 ? d.fragmentSize : Math.max(1, compressed.length);
    const frames: Buffer[] = [];
    let off = 0;
    do {
      const end = Math.min(compressed.length, off + size);
      frames.push(encodeFrame({ opcode: off === 0 ? d.opcode : OP.CONTINUATION, rsv1: off === 0, fin: end === compressed.length, payload: compressed.subarray(off, end) }, this.role));
      off = end;
    } while (off < compressed.length);
    return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
  }

  private onClose(payload: Buffer, at: number): void {
    let code: number | null = null;
    let reason: Buffer = Buffer.alloc(0);
    if (payload.length === 1) this.violation('peer sent a close frame with a 1-byte payload');
    if (payload.length >= 2) {
      code = payload.readUInt16BE(0);
      reason = payload.subarray(2);
      if (!isValidCloseCode(code)) this.violation(`peer sent close code ${code}, which may not be sent (RFC 6455 §7.4)`);
      if (!isUtf8(reason)) this.violation(`peer sent a close reason that is not valid UTF-8: ${hexPreview(reason)}`);
    }
    this.closeEvent = { kind: 'close', code, reason, payload, at };
    this.events.push(this.closeEvent);
  }

  private writeNow(buf: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    if (this.prefix !== null) {
      buf = Buffer.concat([this.prefix, buf]);
      this.prefix = null;
    }
    this.bytesSent += buf.length;
    return this.socket.write(buf);
  }

  /** Encodes a frame (or frames) once per spec object, so that a frame split across steps has one masking key. */
  encode(spec: FrameSpec | FrameSpec[]): Buffer {
    let b = this.encodings.get(spec);
    if (b === undefined) {
      b = Array.isArray(spec) ? Buffer.concat(spec.map((s) => encodeFrame(s, this.role))) : encodeFrame(spec, this.role);
      this.encodings.set(spec, b);
    }
    return b;
  }

  /** Sends one frame now (the driver's own close, replies). */
  sendFrame(spec: FrameSpec): boolean {
    if (spec.opcode === OP.CLOSE) this.sentClose = true;
    return this.writeNow(encodeFrame(spec, this.role));
  }

  /** Runs the steps; stops early (recording why) when the socket can no longer be written. */
  async run(steps: Step[], timeoutMs: number): Promise<void> {
    for (const step of steps) {
      if ('pause' in step) {
        await sleep(step.pause);
        continue;
      }
      if ('endTcp' in step) {
        this.end();
        continue;
      }
      let bytes: Buffer;
      if ('raw' in step) {
        bytes = step.raw;
      } else if ('deflate' in step) {
        bytes = this.encodeDeflateStep(step);
      } else {
        const specs = Array.isArray(step.send) ? step.send : [step.send];
        if (specs.some((s) => s.opcode === OP.CLOSE)) this.sentClose = true;
        bytes = this.encode(step.send);
        if (step.range) {
          let [start, end] = step.range;
          if (step.rangeIn === 'payload') {
            if (Array.isArray(step.send)) throw new Error('rangeIn "payload" needs a single frame');
            const header = bytes.length - payloadOf(step.send).length;
            start = start === 0 ? 0 : header + start;
            end = end === undefined ? undefined : header + end;
          }
          bytes = bytes.subarray(start, end);
        }
      }
      const ok = await this.write(bytes, step.chunk, step.chunkDelayMs ?? 0, timeoutMs);
      if (!ok) return;
    }
  }

  private async write(bytes: Buffer, chunk: number | undefined, delayMs: number, timeoutMs: number): Promise<boolean> {
    const size = chunk !== undefined && chunk > 0 ? chunk : bytes.length;
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += size) {
      if (this.socket.destroyed || !this.socket.writable) {
        this.sendFailed ??= `could not send: the connection was closed after ${this.bytesSent} bytes sent`;
        return false;
      }
      const piece = bytes.subarray(off, off + size);
      if (piece.length === 0) break;
      if (!this.writeNow(piece)) {
        const drained = await new Promise<boolean>((resolve) => {
          const finish = (v: boolean): void => {
            clearTimeout(timer);
            this.socket.off('drain', onDrain);
            this.socket.off('close', onClose);
            resolve(v);
          };
          const onDrain = (): void => finish(true);
          const onClose = (): void => finish(false);
          const timer = setTimeout(() => finish(false), timeoutMs);
          this.socket.on('drain', onDrain);
          this.socket.on('close', onClose);
        });
        if (!drained) {
          this.sendFailed ??= `could not send: the peer did not read (no drain within ${timeoutMs} ms) or closed, after ${this.bytesSent} bytes`;
          return false;
        }
      }
      if (size < bytes.length && off + size < bytes.length) {
        if (delayMs > 0) await sleep(delayMs);
        else await yieldToLoop();
      }
    }
    return true;
  }

  /** Half-closes our side (the server's duty after the close handshake). */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    if (!this.socket.destroyed) {
      this.destroyedByUs = true;
      this.socket.destroy();
    }
  }

  receivedHex(): string {
    return hexPreview(Buffer.concat(this.firstBytes), 64);
  }
}
