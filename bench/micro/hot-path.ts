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
import { buildFrame, Opcode } from '../../src/protocol/frame.js';
import { WebSocket } from '../../src/node/websocket.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '16' },
    size: { type: 'string', default: '32' },
    binary: { type: 'boolean', default: false },
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
const ws = new WebSocket(duplex, { role: 'server', options: {} });
let received = 0;
ws.on('message', (data) => {
  received++;
  ws.send(data);
});

// The receiver unmasks in place, so each read gets a fresh copy of the chunk, as a socket read
// would; the copy and the turn boundary are timed alone too, and subtracted.
const nextTurn = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

async function round(turns: number, work: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < turns; i++) {
    const chunk = Buffer.from(template);
    if (work) ws.handleSocketData(chunk);
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
  `hot path: ${perChunk} × ${size} B ${values.binary ? 'binary' : 'text'} per read: ${median.toFixed(0)} ns/message ` +
    `(min ${results[0]!.toFixed(0)}, max ${results[results.length - 1]!.toFixed(0)}); ${received} echoed, ${duplex.written} bytes written`,
);
