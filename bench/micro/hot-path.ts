/**
 * Per-message JavaScript cost of the echo hot path, without sockets: a chunk of pipelined
 * masked frames goes through a server-side WebSocket over a minimal Duplex, the echo handler
 * sends each message back, and the per-turn flush hands the output to the Duplex. Reports
 * ns per message (median of several rounds). Compare runs of this file before and after a
 * change to the hot path; it does not replace the socket benchmarks (`npm run bench`).
 *
 *   node build/bench/micro/hot-path.js [--messages 16] [--size 32] [--binary] [--rounds 9]
 */
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { buildFrame, Opcode } from '../../src/protocol/index.js';
import { WebSocket } from '../../src/index.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '16' },
    size: { type: 'string', default: '32' },
    binary: { type: 'boolean', default: false },
    thin: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '9' },
  },
});
const perChunk = Number(values.messages);
const size = Number(values.size);
const rounds = Number(values.rounds);

/** A Duplex that discards what is written and lets us push reads by hand. */
class NullDuplex extends Duplex {
  written = 0;
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.written += chunk.length;
    callback();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.written += chunk.length;
    callback();
  }
}

const payload = Buffer.alloc(size, 'a');
const template = Buffer.concat(
  Array.from({ length: perChunk }, () => buildFrame({ opcode: values.binary ? Opcode.BINARY : Opcode.TEXT, payload, mask: true })),
);

const duplex = new NullDuplex();
const ws = new WebSocket(duplex, { role: 'server' });
let received = 0;
ws.on('message', (data) => {
  received++;
  ws.send(data);
});

/**
 * The thin echo's work per read (bench/servers/thin-echo.mjs): parse, unmask, copy every reply
 * frame into one buffer, one write. The floor a library's hot path can approach.
 */
function thinEcho(chunk: Buffer): void {
  let out: number[] | null = null;
  let outLength = 0;
  let position = 0;
  const length = chunk.length;
  while (length - position >= 2) {
    const b0 = chunk[position]!;
    let payloadLength = chunk[position + 1]! & 127;
    const headerLength = (payloadLength === 126 ? 4 : payloadLength === 127 ? 10 : 2) + 4;
    if (payloadLength === 126) payloadLength = chunk.readUInt16BE(position + 2);
    const start = position + headerLength;
    const end = start + payloadLength;
    const m = start - 4;
    const m0 = chunk[m]!, m1 = chunk[m + 1]!, m2 = chunk[m + 2]!, m3 = chunk[m + 3]!;
    let i = start;
    for (; i + 3 < end; i += 4) {
      chunk[i] = chunk[i]! ^ m0;
      chunk[i + 1] = chunk[i + 1]! ^ m1;
      chunk[i + 2] = chunk[i + 2]! ^ m2;
      chunk[i + 3] = chunk[i + 3]! ^ m3;
    }
    for (let k = 0; i < end; i++, k++) chunk[i] = chunk[i]! ^ (k === 0 ? m0 : k === 1 ? m1 : m2);
    position = end;
    (out ??= []).push(b0 & 0x8f, start, end);
    outLength += (payloadLength < 126 ? 2 : 4) + payloadLength;
  }
  if (out === null) return;
  const reply = Buffer.allocUnsafe(outLength);
  let o = 0;
  for (let k = 0; k < out.length; k += 3) {
    const start = out[k + 1]!;
    const payloadLength = out[k + 2]! - start;
    reply[o] = out[k]!;
    reply[o + 1] = payloadLength;
    o += 2;
    o += chunk.copy(reply, o, start, out[k + 2]);
  }
  duplex.write(reply);
}

// The receiver unmasks in place, so each read gets a fresh copy of the chunk, as a socket read
// would; the copy and the turn boundary are timed alone too, and subtracted.
const nextTurn = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

async function round(turns: number, work: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < turns; i++) {
    const chunk = Buffer.from(template);
    if (work) {
      if (values.thin) thinEcho(chunk);
      else ws.handleSocketData(chunk);
    }
    await nextTurn();
  }
  return Number(process.hrtime.bigint() - start) / (turns * perChunk);
}

await round(5000, true); // warm up
await round(5000, false);
const results: number[] = [];
for (let r = 0; r < rounds; r++) {
  const baseline = await round(20000, false);
  results.push((await round(20000, true)) - baseline);
}
results.sort((a, b) => a - b);
const median = results[results.length >> 1]!;
console.log(
  `${values.thin ? 'thin echo' : 'hot path'}: ${perChunk} × ${size} B ${values.binary ? 'binary' : 'text'} per read: ${median.toFixed(0)} ns/message ` +
    `(min ${results[0]!.toFixed(0)}, max ${results[results.length - 1]!.toFixed(0)}); ${received} echoed, ${duplex.written} bytes written`,
);
