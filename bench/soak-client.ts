// The soak workload's client (bench/soak.ts runs it): long-lived clients that echo checked messages
// without pause, while short-lived connections are opened and closed continuously, many of them
// abruptly (TCP resets mid-handshake and mid-frame, FIN without a close frame).
//
//   node build/bench/soak-client.js --port P [--long-lived 50] [--inflight 4] [--churn 20] [--seed 1]
//
// The long-lived clients are `ws` (npm) clients, so the echo is checked by a codec that is not
// wsforge's; the short-lived ones are raw TCP with frames written here. Every echo is compared
// byte for byte and by type with what was sent, in order. Prints `PROGRESS {json}` every 10 s;
// on the stdin line `stop` it stops starting work, waits (at most 15 s) for what is in flight and
// prints `{"event":"report",...}`, then exits.
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'long-lived': { type: 'string', default: '50' },
    inflight: { type: 'string', default: '4' },
    churn: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
  },
});
const port = Number(values.port);
const url = `ws://127.0.0.1:${port}/`;
const OP_TIMEOUT_MS = 10_000;

const counts = {
  longLivedSent: 0,
  longLivedEchoed: 0,
  churnSent: 0,
  churnEchoed: 0,
  mismatched: 0,
  /** long-lived connections that closed while the soak ran (none should) */
  longLivedClosed: 0,
  churn: {} as Record<string, number>,
  /** a short-lived connection that stalled (no answer within 10 s) or failed unexpectedly */
  churnFailures: {} as Record<string, number>,
};
const mismatchExamples: string[] = [];
const closeExamples: string[] = [];
let stopping = false;

/** mulberry32: reproducible message sizes, types and contents. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXT_PIECES = ['a', 'b', 'soak ', '0123', 'é', '€', '𝄞', 'ж', ' ', '\n'];

/** A message: mostly small, some of several KiB, a few up to 64 KiB; text (multi-byte UTF-8 too) or binary. */
function makeMessage(next: () => number): { data: Buffer; binary: boolean } {
  const r = next();
  const size = r < 0.7 ? 1 + Math.floor(next() * 128) : r < 0.95 ? 129 + Math.floor(next() * 4000) : 4096 + Math.floor(next() * 61_440);
  if (next() < 0.4) {
    const data = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(next() * 256);
    return { data, binary: true };
  }
  const pieces: string[] = [];
  for (let bytes = 0; bytes < size; ) {
    const piece = TEXT_PIECES[Math.floor(next() * TEXT_PIECES.length)]!;
    pieces.push(piece);
    bytes += Buffer.byteLength(piece);
  }
  return { data: Buffer.from(pieces.join('')), binary: false };
}

function mismatch(what: string): void {
  counts.mismatched++;
  if (mismatchExamples.length < 10) mismatchExamples.push(what);
}

// ---- Long-lived clients -----------------------------------------------------------------------

class LongLived {
  private readonly expected: Array<{ data: Buffer; binary: boolean }> = [];
  private readonly next: () => number;
  private ws: WebSocket | null = null;
  private closedWhileRunning = false;

  constructor(
    private readonly id: number,
    seed: number,
    private readonly inflight: number,
  ) {
    this.next = random(seed * 7919 + id);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.on('open', () => {
        for (let i = 0; i < this.inflight; i++) this.sendOne();
        resolve();
      });
      ws.on('error', reject);
      ws.on('message', (data: Buffer, isBinary: boolean) => this.echoed(data, isBinary));
      ws.on('close', (code) => {
        if (!stopping) {
          counts.longLivedClosed++;
          this.closedWhileRunning = true;
          if (closeExamples.length < 10) closeExamples.push(`long-lived client ${this.id} closed with ${code} during the soak`);
        }
      });
    });
  }

  private sendOne(): void {
    if (stopping || this.ws === null || this.ws.readyState !== WebSocket.OPEN) return;
    const message = makeMessage(this.next);
    this.expected.push(message);
    counts.longLivedSent++;
    this.ws.send(message.binary ? message.data : message.data.toString(), { binary: message.binary });
  }

  private echoed(data: Buffer, isBinary: boolean): void {
    const want = this.expected.shift();
    if (want === undefined) {
      mismatch(`long-lived client ${this.id}: a message nobody sent (${data.length} bytes)`);
      return;
    }
    counts.longLivedEchoed++;
    if (isBinary !== want.binary || !data.equals(want.data)) {
      mismatch(`long-lived client ${this.id}: sent ${want.binary ? 'binary' : 'text'} of ${want.data.length} bytes, got ${isBinary ? 'binary' : 'text'} of ${data.length}`);
    }
    this.sendOne();
  }

  get outstanding(): number {
    return this.closedWhileRunning ? 0 : this.expected.length;
  }

  close(): void {
    this.ws?.close(1000);
  }
}

// ---- Short-lived connections, raw TCP ---------------------------------------------------------

const HANDSHAKE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ';

/** A masked client frame (RFC 6455 §5.2, §5.3). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headerLength);
  for (let i = 0; i < length; i++) frame[headerLength + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** Server frames (unmasked) from a byte stream. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ opcode: number; payload: Buffer }> {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Array<{ opcode: number; payload: Buffer }> = [];
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return frames;
      let length = b[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (b.length < 4) return frames;
        length = b.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (b.length < 10) return frames;
        length = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + length) return frames;
      frames.push({ opcode: b[0]! & 0x0f, payload: b.subarray(at, at + length) });
      this.buffer = b.subarray(at + length);
    }
  }
}

/** One short-lived connection; resolves when it is over (whatever happened), rejects when it stalls or breaks a rule. */
type ChurnKind = (next: () => number) => Promise<void>;

function openRaw(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Bytes and frames from a socket, with bounded waits. */
class Conversation {
  private head = '';
  private headDone = false;
  private readonly reader = new FrameReader();
  private readonly frames: Array<{ opcode: number; payload: Buffer }> = [];
  private wake: (() => void) | null = null;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (!this.headDone) {
        this.head += chunk.toString('latin1');
        const end = this.head.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.headDone = true;
        const rest = Buffer.from(this.head.slice(end + 4), 'latin1');
        this.head = this.head.slice(0, end);
        if (rest.length > 0) this.frames.push(...this.reader.push(rest));
      } else {
        this.frames.push(...this.reader.push(chunk));
      }
      this.wake?.();
    });
    socket.once('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  private until<T>(check: () => T | undefined, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        reject(new Error(`stalled: ${what}`));
      }, OP_TIMEOUT_MS);
      const attempt = (): void => {
        const value = check();
        if (value !== undefined) {
          clearTimeout(timer);
          this.wake = null;
          resolve(value);
        } else if (this.closed) {
          clearTimeout(timer);
          this.wake = null;
          reject(new Error(`closed while waiting for ${what}`));
        }
      };
      this.wake = attempt;
      attempt();
    });
  }

  async upgrade(): Promise<void> {
    this.socket.write(`${HANDSHAKE}${randomBytes(16).toString('base64')}\r\n\r\n`);
    await this.until(() => (this.headDone ? true : undefined), 'the 101');
    if (!this.head.startsWith('HTTP/1.1 101 ')) throw new Error(`refused: ${this.head.slice(0, this.head.indexOf('\r\n'))}`);
  }

  nextFrame(): Promise<{ opcode: number; payload: Buffer }> {
    return this.until(() => this.frames.shift(), 'a frame');
  }

  waitClosed(): Promise<void> {
    return this.until(() => (this.closed ? true : undefined), 'the server to close').then(() => undefined);
  }

  /** Send a message and check its echo. */
  async echo(next: () => number): Promise<void> {
    const message = makeMessage(next);
    counts.churnSent++;
    this.socket.write(clientFrame(message.binary ? 2 : 1, message.data));
    const frame = await this.nextFrame();
    counts.churnEchoed++;
    if (frame.opcode !== (message.binary ? 2 : 1) || !frame.payload.equals(message.data)) {
      mismatch(`short-lived: sent opcode ${message.binary ? 2 : 1} of ${message.data.length} bytes, got opcode ${frame.opcode} of ${frame.payload.length}`);
    }
  }
}

const CHURN_KINDS: Record<string, ChurnKind> = {
  /** Messages, then the closing handshake: the server echoes 1000 and closes TCP first (RFC 6455 §7.1.1). */
  async clean(next) {
    const c = new Conversation(await openRaw());
    await c.upgrade();
    for (let i = 1 + Math.floor(next() * 3); i > 0; i--) await c.echo(next);
    c.socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
    const close = await c.nextFrame();
    if (close.opcode !== 8 || close.payload.readUInt16BE(0) !== 1000) mismatch(`short-lived: close answered with opcode ${close.opcode}`);
    await c.waitClosed();
  },
  /** A message, its echo, then a TCP reset. */
  async 'reset-after-message'(next) {
    const c = new Conversation(await openRaw());
    await c.upgrade();
    await c.echo(next);
    c.socket.resetAndDestroy();
  },
  /** Half of a frame, then a reset. */
  async 'reset-mid-frame'(next) {
    const c = new Conversation(await openRaw());
    await c.upgrade();
    const frame = clientFrame(2, makeMessage(next).data);
    c.socket.write(frame.subarray(0, Math.max(1, frame.length >> 1)));
    c.socket.resetAndDestroy();
  },
  /** Half of the request head, then a reset. */
  async 'reset-mid-handshake'() {
    const socket = await openRaw();
    socket.write(HANDSHAKE.slice(0, 40));
    socket.resetAndDestroy();
  },
  /** A message, its echo, then FIN without a close frame: the server must close its side too. */
  async 'fin-without-close'(next) {
    const c = new Conversation(await openRaw());
    await c.upgrade();
    await c.echo(next);
    c.socket.end();
    await c.waitClosed();
  },
};

async function churnSlot(slot: number, seed: number): Promise<void> {
  const next = random(seed * 104_729 + slot);
  const kinds = Object.keys(CHURN_KINDS);
  for (let i = slot; !stopping; i++) {
    const kind = kinds[i % kinds.length]!;
    try {
      await CHURN_KINDS[kind]!(next);
      counts.churn[kind] = (counts.churn[kind] ?? 0) + 1;
    } catch (error) {
      // the kind and what went wrong, without the details that differ each time
      const key = `${kind}: ${(error as Error).message.replace(/(HTTP\/1\.1 \d{3}).*/, '$1')}`;
      counts.churnFailures[key] = (counts.churnFailures[key] ?? 0) + 1;
    }
  }
}

// ---- Run --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const seed = Number(values.seed);
  const inflight = Number(values.inflight);
  const longLived = Array.from({ length: Number(values['long-lived']) }, (_, i) => new LongLived(i, seed, inflight));
  await Promise.all(longLived.map((c) => c.start()));
  const churn = Array.from({ length: Number(values.churn) }, (_, slot) => churnSlot(slot, seed));
  const started = Date.now();
  const progress = setInterval(() => {
    process.stdout.write(`PROGRESS ${JSON.stringify({ seconds: Math.round((Date.now() - started) / 1000), ...counts })}\n`);
  }, 10_000);
  process.stdout.write('READY\n');

  const lines = createInterface({ input: process.stdin });
  // The runner is gone (stdin ended without `stop`): do not outlive it.
  lines.on('close', () => {
    if (!stopping) process.exit(0);
  });
  await new Promise<void>((resolve) => lines.on('line', (line) => line.trim() === 'stop' && resolve()));
  stopping = true;
  clearInterval(progress);
  // What is in flight may still arrive: wait for it (bounded).
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && longLived.some((c) => c.outstanding > 0)) await new Promise((resolve) => setTimeout(resolve, 50));
  await Promise.race([Promise.all(churn), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
  // A short-lived connection waits for each echo before it goes on (or resets): one that never came is lost.
  const lost = longLived.reduce((sum, c) => sum + c.outstanding, 0) + (counts.churnSent - counts.churnEchoed);
  for (const c of longLived) c.close();
  process.stdout.write(`${JSON.stringify({ event: 'report', ok: true, seconds: Math.round((Date.now() - started) / 1000), lost, ...counts, mismatchExamples, closeExamples })}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stdout.write(`${JSON.stringify({ event: 'report', ok: false, error: (error as Error).message })}\n`);
  process.exit(1);
});
